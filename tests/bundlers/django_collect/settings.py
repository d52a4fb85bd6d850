"""collectstatic of a Vite build with staticserve's manifest storage (django-vite's set-up)."""

import os

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
ROOT_URLCONF = "tests.bundlers.django_collect.urls"
INSTALLED_APPS = ["staticserve.django", "django.contrib.staticfiles"]
MIDDLEWARE = ["staticserve.django.StaticServeMiddleware"]
DATABASES: dict = {}
STATIC_URL = "/static/"
STATIC_ROOT = os.environ["STATICSERVE_TEST_STATIC_ROOT"]
STATICFILES_DIRS = [os.environ["STATICSERVE_TEST_DIST"], os.environ["STATICSERVE_TEST_OWN"]]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "staticserve.django.storage.CompressedManifestStaticFilesStorage"},
}
