"""DEBUG serving through Django's finders (no collectstatic), autorefresh, runserver."""

import os
import shutil
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.test import Client, SimpleTestCase, override_settings

PROJECT_STATIC = Path(settings.BASE_DIR, "static")


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


@override_settings(DEBUG=True, STATIC_ROOT=None)
class FinderServingTests(SimpleTestCase):
    def setUp(self):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        self.dir = Path(tmp)
        shutil.copytree(PROJECT_STATIC, self.dir / "static")
        self.static = self.dir / "static"
        (self.dir / "collected").mkdir()  # STATIC_ROOT set, collectstatic not run
        override = override_settings(
            STATIC_ROOT=str(self.dir / "collected"),
            STATICFILES_DIRS=[self.static, ("vendor", Path(settings.BASE_DIR, "vendor"))],
        )
        override.enable()
        self.addCleanup(override.disable)

    def test_precedence_is_the_finders(self):
        client = Client()
        self.assertEqual(body(client.get("/static/shared/clash.txt")), b"from STATICFILES_DIRS\n")
        self.assertEqual(body(client.get("/static/shared/apps.txt")), b"from app_one\n")
        self.assertEqual(client.get("/static/vendor/lib.js").status_code, 200)
        self.assertEqual(client.get("/static/app_two/app.js").status_code, 200)
        admin = client.get("/static/admin/css/base.css")
        self.assertEqual(admin.status_code, 200)
        self.assertEqual(admin["Cache-Control"], "no-cache")  # autorefresh default

    def test_edits_show_on_next_request(self):
        client = Client()
        target = self.static / "shared" / "clash.txt"
        self.assertEqual(body(client.get("/static/shared/clash.txt")), b"from STATICFILES_DIRS\n")
        target.write_bytes(b"edited, and longer than before\n")
        later = time.time() + 2
        os.utime(target, (later, later))
        response = client.get("/static/shared/clash.txt")
        self.assertEqual(body(response), b"edited, and longer than before\n")
        self.assertEqual(response["Content-Length"], str(len(b"edited, and longer than before\n")))
        # A new file is found; a deleted one falls back to the next finder location.
        (self.static / "new.css").write_text("a { color: red }\n")
        self.assertEqual(body(client.get("/static/new.css")), b"a { color: red }\n")
        target.unlink()
        self.assertEqual(body(client.get("/static/shared/clash.txt")), b"from app_one\n")

    def test_templates_and_integrity_use_unhashed_names(self):
        html = Client().get("/page/").content.decode()
        self.assertIn('<link rel="stylesheet" href="/static/site.css">', html)
        self.assertIn('src="/static/app_one/es/main.js"', html)
        served = body(Client().get("/static/app_one/es/main.js"))
        import base64
        import hashlib

        sri = "sha384-" + base64.b64encode(hashlib.sha384(served).digest()).decode()
        self.assertIn(f'integrity="{sri}"', html)

    @override_settings(STATICSERVE_USE_FINDERS=False, STATICSERVE_AUTOREFRESH=False)
    def test_finders_off_serves_only_static_root(self):
        self.assertEqual(Client().get("/static/site.css").status_code, 404)


class RunserverTests(SimpleTestCase):
    def test_our_runserver_wins_and_skips_the_static_handler(self):
        self.assertEqual(get_commands()["runserver"], "staticserve.django")
        command = load_command_class("staticserve.django", "runserver")
        handler = command.get_handler(use_static_handler=True, insecure_serving=True)
        from django.contrib.staticfiles.handlers import StaticFilesHandler
        from django.core.handlers.wsgi import WSGIHandler

        self.assertNotIsInstance(handler, StaticFilesHandler)
        self.assertIsInstance(handler, WSGIHandler)
