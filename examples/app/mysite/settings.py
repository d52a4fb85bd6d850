"""Settings of the example Django project: only what static files need."""

from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = "example-only-replace-me"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "staticserve.django",  # before staticfiles: `runserver` leaves static files to staticserve
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "staticserve.django.StaticServeMiddleware",  # right after SecurityMiddleware
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"
DATABASES: dict[str, dict[str, str]] = {}

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"  # written by `python manage.py collectstatic`
STATICFILES_DIRS = [BASE_DIR / "assets"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "staticserve.django.storage.CompressedManifestStaticFilesStorage"},
}
