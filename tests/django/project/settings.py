"""Settings of the test project; the SS_* environment variables vary them per run.

SS_DEBUG=1, SS_STATIC_ROOT=<dir>, SS_STORAGE=<backend>, SS_STATIC_URL=<url>,
SS_STATICFILES_DIR=<dir> (collected after the project's), SS_MISSING_REFERENCES=warn.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def env(name, default=None):
    return os.environ.get("SS_" + name, default)


SECRET_KEY = "staticserve-tests-only"
DEBUG = env("DEBUG", "0") == "1"
ALLOWED_HOSTS = ["*"]

INSTALLED_APPS = [
    "staticserve.django",  # before staticfiles: its runserver leaves static files to us
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "tests.django.project.app_one",
    "tests.django.project.app_two",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "staticserve.django.StaticServeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tests.django.project.urls"
WSGI_APPLICATION = "tests.django.project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True

STATIC_URL = env("STATIC_URL", "static/")
STATIC_ROOT = env("STATIC_ROOT") or None
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "vendor")]
if env("STATICFILES_DIR"):
    STATICFILES_DIRS.append(env("STATICFILES_DIR"))
if env("MISSING_REFERENCES"):
    STATICSERVE_MISSING_REFERENCES = env("MISSING_REFERENCES")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env("STORAGE", "staticserve.django.storage.CompressedManifestStaticFilesStorage")
    },
}
STATICSERVE_ROOT = BASE_DIR / "root_files"
