"""System checks (each fires on its misconfiguration, none on the project) and URL set-ups."""

import tempfile

from django.conf import settings
from django.core.checks import run_checks
from django.test import Client, SimpleTestCase, override_settings
from django.urls import set_script_prefix

OURS = "staticserve.django.StaticServeMiddleware"
SECURITY = "django.middleware.security.SecurityMiddleware"
GZIP = "django.middleware.gzip.GZipMiddleware"
CONDITIONAL = "django.middleware.http.ConditionalGetMiddleware"
REST = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
MANIFEST_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


def ids():
    return sorted(m.id for m in run_checks(tags=["staticserve"]))


def messages():
    return {m.id: m for m in run_checks(tags=["staticserve"])}


class CheckTests(SimpleTestCase):
    def test_correct_project_is_silent(self):
        self.assertEqual(ids(), [])

    @override_settings(MIDDLEWARE=[SECURITY, *REST])
    def test_w001_middleware_missing(self):
        m = messages()
        self.assertEqual(list(m), ["staticserve.W001"])
        self.assertIn(f"Add '{OURS}'", m["staticserve.W001"].hint)

    @override_settings(MIDDLEWARE=[SECURITY, GZIP, CONDITIONAL, OURS, *REST])
    def test_w002_below_response_altering_middleware(self):
        found = [m for m in run_checks(tags=["staticserve"]) if m.id == "staticserve.W002"]
        self.assertEqual(len(found), 2)
        self.assertIn("GZipMiddleware", found[0].msg)
        self.assertIn("Move", found[0].hint)

    @override_settings(MIDDLEWARE=[SECURITY, OURS, GZIP, *REST])
    def test_gzip_below_is_fine(self):
        self.assertEqual(ids(), [])

    @override_settings(MIDDLEWARE=[OURS, SECURITY, *REST])
    def test_w003_above_security(self):
        self.assertEqual(ids(), ["staticserve.W003"])

    @override_settings(
        MIDDLEWARE=[SECURITY, OURS, "whitenoise.middleware.WhiteNoiseMiddleware", *REST]
    )
    def test_w004_whitenoise_too(self):
        self.assertEqual(ids(), ["staticserve.W004"])

    @override_settings(STATIC_ROOT=None, DEBUG=False)
    def test_w005_static_root_unset(self):
        self.assertEqual(ids(), ["staticserve.W005"])

    @override_settings(STATIC_ROOT=None, DEBUG=True)
    def test_static_root_unset_is_fine_in_debug(self):
        self.assertEqual(ids(), [])

    @override_settings(STATIC_ROOT="/nonexistent/staticserve-root")
    def test_w006_static_root_missing(self):
        m = messages()
        self.assertEqual(list(m), ["staticserve.W006"])
        self.assertIn("collectstatic", m["staticserve.W006"].hint)

    def test_w007_manifest_missing(self):
        with tempfile.TemporaryDirectory() as root:
            for storages in (MANIFEST_STORAGES, settings.STORAGES):
                with override_settings(STATIC_ROOT=root, STORAGES=storages):
                    m = messages()
                    self.assertEqual(list(m), ["staticserve.W007"])
                    self.assertIn("collectstatic", m["staticserve.W007"].hint)

    @override_settings(STATIC_URL="https://cdn.example.com/static/")
    def test_w008_cdn_url(self):
        m = messages()
        self.assertEqual(list(m), ["staticserve.W008"])
        self.assertIn("STATICSERVE_SERVE_CDN_URL_PATH = True", m["staticserve.W008"].hint)
        with override_settings(STATICSERVE_SERVE_CDN_URL_PATH=True):
            self.assertEqual(ids(), [])

    @override_settings(FORCE_SCRIPT_NAME="/app", STATIC_URL="/static/")
    def test_w009_static_url_outside_script_name(self):
        self.assertEqual(ids(), ["staticserve.W009"])

    def test_relative_static_url_under_script_name_is_fine(self):
        set_script_prefix("/app/")
        try:
            with override_settings(FORCE_SCRIPT_NAME="/app", STATIC_URL="static/"):
                self.assertEqual(settings.STATIC_URL, "/app/static/")
                self.assertEqual(ids(), [])
        finally:
            set_script_prefix("/")

    @override_settings(STATIC_URL="/")
    def test_w010_static_url_root(self):
        self.assertEqual(ids(), ["staticserve.W010"])

    def test_w011_app_order(self):
        apps = [a for a in settings.INSTALLED_APPS if a != "staticserve.django"]
        with override_settings(INSTALLED_APPS=[*apps, "staticserve.django"]):
            self.assertEqual(ids(), ["staticserve.W011"])

    @override_settings(STATICSERVE_ADD_HEADERS_FUNCTION="no.such.module.func")
    def test_e001_bad_setting(self):
        m = messages()
        self.assertEqual(list(m), ["staticserve.E001"])
        self.assertIn("STATICSERVE_ADD_HEADERS_FUNCTION", m["staticserve.E001"].msg)


def add_headers(headers, path, url):
    headers.append(("X-Test", url))


class UrlSetupTests(SimpleTestCase):
    """How STATIC_URL, FORCE_SCRIPT_NAME and the STATICSERVE_* settings map to requests."""

    @override_settings(STATIC_URL="https://cdn.example.com/assets/")
    def test_cdn_url_not_served_by_default(self):
        response = Client().get("/assets/shared/clash.txt")
        self.assertEqual(response.status_code, 404)

    @override_settings(
        STATIC_URL="https://cdn.example.com/assets/", STATICSERVE_SERVE_CDN_URL_PATH=True
    )
    def test_cdn_url_path_served_when_configured(self):
        response = Client().get("/assets/shared/clash.txt")
        self.assertEqual(response.content, b"from STATICFILES_DIRS\n")
        self.assertEqual(response["Access-Control-Allow-Origin"], "*")

    @override_settings(FORCE_SCRIPT_NAME="/app", STATIC_URL="/app/static/")
    def test_force_script_name(self):
        response = Client().get("/static/shared/clash.txt")
        self.assertEqual(response.content, b"from STATICFILES_DIRS\n")

    @override_settings(
        STATICSERVE_MAX_AGE=5,
        STATICSERVE_ALLOW_ALL_ORIGINS=False,
        STATICSERVE_ADD_HEADERS_FUNCTION="tests.django.project.dj_checks.add_headers",
        STATICSERVE_MIMETYPES={".txt": "text/x-test"},
    )
    def test_settings_reach_the_core(self):
        response = Client().get("/static/shared/clash.txt")
        self.assertEqual(response["Cache-Control"], "public, max-age=5")
        self.assertNotIn("Access-Control-Allow-Origin", response)
        self.assertEqual(response["X-Test"], "/static/shared/clash.txt")
        self.assertEqual(response["Content-Type"], "text/x-test; charset=utf-8")

    @override_settings(STATICSERVE_IMMUTABLE_FILE_TEST=r"clash\.txt$")
    def test_immutable_file_test(self):
        response = Client().get("/static/shared/clash.txt")
        self.assertEqual(response["Cache-Control"], "public, max-age=31536000, immutable")

    @override_settings(
        STATICSERVE_IMMUTABLE_FILE_TEST="tests.django.project.dj_checks.immutable_txt"
    )
    def test_immutable_file_test_dotted_path(self):
        response = Client().get("/static/shared/clash.txt")
        self.assertEqual(response["Cache-Control"], "public, max-age=31536000, immutable")


def immutable_txt(path, url):
    return url.endswith(".txt")


class StartupErrorTests(SimpleTestCase):
    """A root that is not there stops start-up with the Django fix, not a 500 later."""

    def startup_error(self, **overrides):
        from django.core.exceptions import ImproperlyConfigured

        from staticserve.django.middleware import build_static_files

        production = {"STATICSERVE_USE_FINDERS": False, "STATICSERVE_AUTOREFRESH": False}
        with (
            override_settings(DEBUG=False, **production, **overrides),
            self.assertRaises(ImproperlyConfigured) as caught,
        ):
            build_static_files()
        return str(caught.exception)

    def test_a_missing_static_root_names_it_and_collectstatic_only(self):
        missing = tempfile.mkdtemp() + "/never-collected"
        message = self.startup_error(STATIC_ROOT=missing)
        self.assertIn(f"STATIC_ROOT = {missing!r} is not a directory; run `manage.py ", message)
        self.assertNotIn("staticserve build", message)

    def test_a_missing_staticserve_root_names_the_setting(self):
        missing = tempfile.mkdtemp() + "/no-dist"
        message = self.startup_error(STATICSERVE_ROOT=missing)
        self.assertIn(f"STATICSERVE_ROOT = {missing!r} is not a directory; create it", message)
