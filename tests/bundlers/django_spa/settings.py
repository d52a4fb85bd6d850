"""A Django project with JSON API views beside a Vite SPA served by staticserve."""

import os

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "tests.bundlers.django_spa.urls"
INSTALLED_APPS = ["staticserve.django", "django.contrib.staticfiles"]
MIDDLEWARE = ["staticserve.django.StaticServeMiddleware"]
STATIC_URL = "/static/"
DATABASES: dict = {}
# The SPA: the Vite build served at "/", index.html for client-side routes.
STATICSERVE_ROOT = os.environ.get("STATICSERVE_TEST_DIST", "")
STATICSERVE_INDEX_FILE = True
STATICSERVE_FALLBACK = "index.html"
