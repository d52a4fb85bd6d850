"""A Django project configured only with WHITENOISE_* settings, for the differential test.

``COMPAT_MIDDLEWARE`` is the static middleware's dotted path (real WhiteNoise's,
``staticserve.compat.whitenoise.WhiteNoiseMiddleware``, or
``staticserve.django.StaticServeMiddleware``); ``COMPAT_BASE`` holds
``static_root`` (STATIC_ROOT) and ``root_files`` (WHITENOISE_ROOT). Settings and
URLconf in one module: ``DJANGO_SETTINGS_MODULE=tests.compat.django_project``.
"""

from __future__ import annotations

import json
import os

from django.http import HttpRequest, HttpResponse
from django.urls import re_path

from tests.compat.cases import add_headers

BASE = os.environ.get("COMPAT_BASE", "/nonexistent")

DEBUG = False
SECRET_KEY = "compat-test-only"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = __name__
INSTALLED_APPS = ["staticserve.django", "django.contrib.staticfiles"]
MIDDLEWARE = [os.environ.get("COMPAT_MIDDLEWARE", "staticserve.django.StaticServeMiddleware")]
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE, "static_root")
STATICFILES_DIRS = [os.path.join(BASE, "src")] if os.path.isdir(os.path.join(BASE, "src")) else []
if os.environ.get("COMPAT_STORAGE"):
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": os.environ["COMPAT_STORAGE"]},
    }
USE_TZ = True

WHITENOISE_ROOT = os.path.join(BASE, "root_files")
WHITENOISE_MAX_AGE = 1000
WHITENOISE_INDEX_FILE = True
WHITENOISE_ADD_HEADERS_FUNCTION = add_headers
WHITENOISE_MIMETYPES = {".foobar": "application/x-foo-bar"}
WHITENOISE_CHARSET = "utf-8"
WHITENOISE_ALLOW_ALL_ORIGINS = True
if os.environ.get("COMPAT_AUTOREFRESH"):
    WHITENOISE_AUTOREFRESH = True
# More settings for one test, as JSON (e.g. '{"STATICSERVE_MAX_AGE": 5}').
globals().update(json.loads(os.environ.get("COMPAT_SETTINGS", "{}")))


def fallback(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"app: {request.method} {request.path}", content_type="text/plain")


urlpatterns = [re_path(r"", fallback)]
