"""Errors under STATIC_URL are never cacheable (STATICSERVE_MISS_CACHE_CONTROL).

Run by tests/django/test_misses.py with ``python -m django test``; serves the
project's static directories through the finders, so no collectstatic is needed.
"""

from django.test import AsyncClient, Client, SimpleTestCase, override_settings


@override_settings(STATICSERVE_USE_FINDERS=True)
class MissTests(SimpleTestCase):
    def test_django_404_under_static_url_is_no_store(self):
        response = Client().get("/static/missing.css")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_django_404_under_static_url_is_no_store_under_asgi(self):
        async def go():
            return await AsyncClient().get("/static/missing.css")

        from asgiref.sync import async_to_sync

        response = async_to_sync(go)()
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_405_on_a_static_file_is_no_store(self):
        response = Client().post("/static/site.css")
        self.assertEqual(response.status_code, 405)
        self.assertEqual(response["Cache-Control"], "no-store")

    def test_static_hit_keeps_its_own_cache_control(self):
        response = Client().get("/static/site.css")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Cache-Control"], "public, max-age=60")

    def test_view_success_under_static_url_is_untouched(self):
        response = Client().get("/static/dynamic/x")
        self.assertEqual(response.status_code, 200)
        self.assertFalse(response.has_header("Cache-Control"))

    def test_404_outside_static_url_is_untouched(self):
        response = Client().get("/no-such-page/")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(response.has_header("Cache-Control"))

    def test_robots_root_prefix_leaves_django_pages_alone(self):
        # STATICSERVE_ROOT is served at "/", which the pages share.
        self.assertEqual(Client().get("/robots.txt").status_code, 200)
        self.assertFalse(Client().get("/no-such-page/").has_header("Cache-Control"))

    @override_settings(STATICSERVE_MISS_CACHE_CONTROL="public, max-age=10")
    def test_miss_cache_control_setting_is_used(self):
        response = Client().get("/static/missing.css")
        self.assertEqual(response["Cache-Control"], "public, max-age=10")

    @override_settings(STATICSERVE_MISS_CACHE_CONTROL=None)
    def test_miss_cache_control_none_sends_no_header(self):
        response = Client().get("/static/missing.css")
        self.assertEqual(response.status_code, 404)
        self.assertFalse(response.has_header("Cache-Control"))
