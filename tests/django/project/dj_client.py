"""Requests through Django's test client on a collected STATIC_ROOT (SS_STATIC_ROOT).

Run by tests/django/test_django.py with ``python -m django test``.
"""

import json
import os
import time
from pathlib import Path

from django.conf import settings
from django.test import AsyncClient, Client, SimpleTestCase

from staticserve.django.middleware import StaticFileResponse
from tests.django.assets import IMMUTABLE, check_admin_assets, check_passthrough

MANIFEST = "Manifest" in settings.STORAGES["staticfiles"]["BACKEND"]


def fetch_with(client):
    def fetch(path, headers):
        response = client.get(path, headers=headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        response.close()
        return response.status_code, {k.lower(): v for k, v in response.items()}, body

    return fetch


class ClientTests(SimpleTestCase):
    def test_admin_login_assets(self):
        refs = check_admin_assets(fetch_with(Client()), settings.STATIC_ROOT, MANIFEST)
        self.assertTrue(any("admin/css/base" in r for r in refs), refs)

    def test_passthrough_to_urlconf(self):
        check_passthrough(fetch_with(Client()))

    def test_security_middleware_headers_added(self):
        response = Client().get("/static/shared/clash.txt")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_whole_file_uses_file_wrapper_and_head_is_exact(self):
        path = Path(settings.STATIC_ROOT, "admin/js/vendor/jquery/jquery.js")
        size = path.stat().st_size
        client = Client()
        response = client.get("/static/admin/js/vendor/jquery/jquery.js")
        self.assertIsInstance(response, StaticFileResponse)
        self.assertIsNotNone(response.file_to_stream)  # -> wsgi.file_wrapper / sendfile
        self.assertEqual(int(response["Content-Length"]), size)
        self.assertEqual(b"".join(response.streaming_content), path.read_bytes())
        response.close()
        head = client.head("/static/admin/js/vendor/jquery/jquery.js")
        self.assertEqual(head["Content-Length"], str(size))
        self.assertEqual(head["ETag"], response["ETag"])
        self.assertEqual(b"".join(getattr(head, "streaming_content", [head.content])), b"")

    def test_conditional_and_range(self):
        client = Client()
        first = client.get("/static/shared/clash.txt")
        etag = first["ETag"]
        not_modified = client.get("/static/shared/clash.txt", headers={"If-None-Match": etag})
        self.assertEqual(not_modified.status_code, 304)
        self.assertEqual(not_modified["ETag"], etag)
        self.assertNotIn("Content-Type", not_modified)
        partial = client.get("/static/shared/clash.txt", headers={"Range": "bytes=5-8"})
        self.assertEqual(partial.status_code, 206)
        self.assertEqual(partial["Content-Range"], "bytes 5-8/22")
        self.assertEqual(partial["Content-Length"], "4")
        body = b"".join(partial.streaming_content) if partial.streaming else partial.content
        self.assertEqual(body, b"STAT")
        post = client.post("/static/shared/clash.txt")
        self.assertEqual((post.status_code, post["Allow"]), (405, "GET, HEAD"))

    def test_finders_precedence_in_collected_root(self):
        client = Client()
        self.assertEqual(client.get("/static/shared/clash.txt").content, b"from STATICFILES_DIRS\n")
        self.assertEqual(client.get("/static/shared/apps.txt").content, b"from app_one\n")
        self.assertEqual(client.get("/static/vendor/lib.js").status_code, 200)

    def test_page_urls_and_integrity(self):
        html = Client().get("/page/").content.decode()
        if MANIFEST:
            manifest = json.loads(Path(settings.STATIC_ROOT, "staticfiles.json").read_text())
            hashed = manifest["paths"]["app_one/es/main.js"]
            self.assertIn(f'src="/static/{hashed}"', html)
            self.assertIn(manifest["files"][hashed]["integrity"], html)
            self.assertIn(
                f'integrity="{manifest["files"][hashed]["integrity"]}" type="module" '
                'crossorigin="anonymous"></script>',
                html,
            )
            # The integrity is that of the bytes served at the URL.
            served = Client().get(f"/static/{hashed}")
            import base64
            import hashlib

            digest = hashlib.sha384(served.getvalue()).digest()
            self.assertIn("sha384-" + base64.b64encode(digest).decode(), html)
        self.assertIn('<link rel="stylesheet" href="/static/', html)
        self.assertIn('id="integrity">sha384-', html)

    def test_changed_file_is_replanned(self):
        # A file rewritten after start-up: never a wrong Content-Length.
        path = Path(settings.STATIC_ROOT, "app_two/app.js")
        original = path.read_bytes()
        client = Client()
        client.get("/static/app_two/app.js")
        try:
            path.write_bytes(original + b"// grown\n")
            later = time.time() + 5
            os.utime(path, (later, later))
            response = client.get("/static/app_two/app.js")
            body = b"".join(response.streaming_content) if response.streaming else response.content
            self.assertEqual(int(response["Content-Length"]), len(body))
        finally:
            path.write_bytes(original)


class AsyncClientTests(SimpleTestCase):
    async def test_async_path_serves_with_async_body(self):
        client = AsyncClient()
        response = await client.get(
            "/static/admin/js/vendor/jquery/jquery.js", headers={"Accept-Encoding": "identity"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("Content-Encoding", response)
        if MANIFEST:
            self.assertNotEqual(response["Cache-Control"], IMMUTABLE)  # unhashed name
        chunks = [c async for c in response.streaming_content]
        self.assertEqual(int(response["Content-Length"]), sum(map(len, chunks)))
        self.assertTrue(response.is_async)
        missing = await client.get("/static/dynamic/a")
        self.assertEqual(missing.content, b"urlconf:/static/dynamic/a")

    def test_middleware_is_coroutine_in_async_chain(self):
        from asgiref.sync import iscoroutinefunction

        from staticserve.django.middleware import StaticServeMiddleware

        async def get_response(request):
            return None

        self.assertTrue(iscoroutinefunction(StaticServeMiddleware(get_response)))
        self.assertFalse(iscoroutinefunction(StaticServeMiddleware(lambda r: None)))
