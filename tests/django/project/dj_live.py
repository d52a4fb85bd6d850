"""StaticLiveServerTestCase keeps working with StaticServeMiddleware installed."""

import urllib.request

from django.conf import settings
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.test import override_settings

from tests.django.assets import static_refs


class Fetching:
    def get(self, path):
        with urllib.request.urlopen(self.live_server_url + path, timeout=10) as response:
            return response.status, dict(response.headers), response.read()


# StaticLiveServerTestCase serves /static/ itself from the finders (unhashed
# names), as Django documents; run it as tests usually do, with the default storage.
@override_settings(
    STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
)
class StaticLiveServerTests(Fetching, StaticLiveServerTestCase):
    def test_pages_and_their_static_files(self):
        status, _, body = self.get("/admin/login/")
        self.assertEqual(status, 200)
        refs = static_refs(body.decode())
        self.assertTrue(refs)
        for ref in refs:
            status, headers, data = self.get(ref)
            self.assertEqual(status, 200, ref)
            self.assertEqual(int(headers["Content-Length"]), len(data))
        status, _, data = self.get("/static/shared/clash.txt")
        self.assertEqual(data, b"from STATICFILES_DIRS\n")
        status, _, data = self.get("/hello/")
        self.assertEqual(data, b"urlconf:/hello/")
