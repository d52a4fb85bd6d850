"""System checks (``staticserve.W001`` ...) for the mistakes users actually make.

Registered by the ``staticserve.django`` app under the ``staticserve`` tag, so
they run with ``manage.py check`` / ``runserver`` / ``migrate`` but not inside
``collectstatic`` (which would otherwise be told to run itself).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured

from . import settings as ss_settings

MIDDLEWARE = "staticserve.django.StaticServeMiddleware"
_MIDDLEWARE_ALIASES = (
    MIDDLEWARE,
    "staticserve.django.middleware.StaticServeMiddleware",
    "staticserve.compat.whitenoise.WhiteNoiseMiddleware",
)
SECURITY = "django.middleware.security.SecurityMiddleware"

#: Middleware that re-encode, buffer or re-validate a response placed around ours.
RESPONSE_ALTERING = {
    "django.middleware.gzip.GZipMiddleware": "compresses responses again (and drops "
    "Content-Length/ETag of the precompressed files)",
    "django.middleware.http.ConditionalGetMiddleware": "re-evaluates conditional requests "
    "staticserve already answered",
    "compression_middleware.middleware.CompressionMiddleware": "compresses responses again",
    "django_brotli.middleware.BrotliMiddleware": "compresses responses again",
}
OTHER_STATIC_SERVERS = ("whitenoise.middleware.WhiteNoiseMiddleware",)
MANIFEST_BACKENDS = (
    "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    "staticserve.django.storage.CompressedManifestStaticFilesStorage",
    "whitenoise.storage.CompressedManifestStaticFilesStorage",
)


def _middleware() -> list[str]:
    return list(getattr(settings, "MIDDLEWARE", None) or [])


def _position(middleware: list[str]) -> int | None:
    for i, name in enumerate(middleware):
        if name in _MIDDLEWARE_ALIASES:
            return i
    return None


def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    middleware = _middleware()
    here = _position(middleware)
    if here is None:
        return [
            Warning(
                f"{MIDDLEWARE} is not in MIDDLEWARE, so staticserve serves no static file.",
                hint=f"Add '{MIDDLEWARE}' to MIDDLEWARE right after '{SECURITY}'.",
                id="staticserve.W001",
            )
        ]
    errors: list[CheckMessage] = []
    for name in middleware[:here]:
        if name in RESPONSE_ALTERING:
            errors.append(
                Warning(
                    f"{name} comes before {MIDDLEWARE} in MIDDLEWARE, so it wraps static "
                    f"responses: it {RESPONSE_ALTERING[name]}.",
                    hint=f"Move '{MIDDLEWARE}' above '{name}' (right after '{SECURITY}').",
                    id="staticserve.W002",
                )
            )
    if SECURITY in middleware[here + 1 :]:
        errors.append(
            Warning(
                f"{MIDDLEWARE} comes before {SECURITY}, so static responses get no security "
                "headers (HSTS, nosniff, ...) and no SECURE_SSL_REDIRECT.",
                hint=f"Move '{MIDDLEWARE}' to right after '{SECURITY}'.",
                id="staticserve.W003",
            )
        )
    for name in OTHER_STATIC_SERVERS:
        if name in middleware:
            errors.append(
                Warning(
                    f"{name} is also in MIDDLEWARE: two middleware serve static files.",
                    hint=f"Remove '{name}' (see docs/django.md, migrating from WhiteNoise).",
                    id="staticserve.W004",
                )
            )
    return errors


def check_static_root(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG or _position(_middleware()) is None:
        return []
    if ss_settings.setting("USE_FINDERS"):
        return []
    root = getattr(settings, "STATIC_ROOT", None)
    if not root:
        return [
            Warning(
                "STATIC_ROOT is not set, so with DEBUG = False staticserve has no "
                "static file to serve.",
                hint="Set STATIC_ROOT to a directory (e.g. BASE_DIR / 'staticfiles') and "
                "run `manage.py collectstatic` when deploying.",
                id="staticserve.W005",
            )
        ]
    if not os.path.isdir(root):
        return [
            Warning(
                f"STATIC_ROOT {root} does not exist, so no static file is served.",
                hint="Run `manage.py collectstatic --noinput` as part of the deployment, "
                "before starting the server.",
                id="staticserve.W006",
            )
        ]
    return []


def _storage_backend() -> tuple[str, dict[str, Any]]:
    storages = getattr(settings, "STORAGES", None) or {}
    conf = storages.get("staticfiles") or {}
    backend = conf.get("BACKEND") or getattr(settings, "STATICFILES_STORAGE", "") or ""
    return backend, conf.get("OPTIONS") or {}


def _is_manifest_backend(backend: str) -> bool:
    if backend in MANIFEST_BACKENDS:
        return True
    try:
        from django.contrib.staticfiles.storage import ManifestFilesMixin
        from django.utils.module_loading import import_string

        cls = import_string(backend)
    except Exception:
        return False
    return isinstance(cls, type) and issubclass(cls, ManifestFilesMixin)


def check_manifest(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:
        return []
    backend, options = _storage_backend()
    root = getattr(settings, "STATIC_ROOT", None)
    if not root or not os.path.isdir(root) or not _is_manifest_backend(backend):
        return []
    if options.get("manifest_storage") is not None:
        return []  # the manifest lives elsewhere
    name = "staticfiles.json"
    try:
        from django.utils.module_loading import import_string

        name = getattr(import_string(backend), "manifest_name", name)
    except Exception:
        pass
    if not os.path.isfile(os.path.join(root, name)):
        return [
            Warning(
                f"STORAGES['staticfiles'] is {backend}, but {os.path.join(root, name)} does "
                "not exist: collectstatic has not been run, so {% static %} raises "
                "'Missing staticfiles manifest entry' and no hashed file is served.",
                hint="Run `manage.py collectstatic --noinput` as part of the deployment.",
                id="staticserve.W007",
            )
        ]
    return []


def check_static_url(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if _position(_middleware()) is None:
        return []
    try:
        url = ss_settings.static_url()
        ss_settings.core_options()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="staticserve.E001")]
    errors: list[CheckMessage] = []
    if url.is_absolute and url.prefix is None:
        errors.append(
            Warning(
                f"STATIC_URL {url.url!r} is a full URL (a CDN), so staticserve serves "
                "nothing at it from this process.",
                hint="If the CDN pulls from this app (its origin), set "
                "STATICSERVE_SERVE_CDN_URL_PATH = True to serve files under "
                f"{url.path!r}; if the files are uploaded elsewhere, remove "
                f"'{MIDDLEWARE}' or silence staticserve.W008.",
                id="staticserve.W008",
            )
        )
    script_name = (settings.FORCE_SCRIPT_NAME or "").rstrip("/")
    if script_name and not url.is_absolute:
        path = url.path
        if not (path == script_name or path.startswith(script_name + "/")):
            errors.append(
                Warning(
                    f"STATIC_URL {url.url!r} is outside FORCE_SCRIPT_NAME "
                    f"{settings.FORCE_SCRIPT_NAME!r}, so requests for it never reach "
                    "this application.",
                    hint=f"Use a relative STATIC_URL such as 'static/' (Django then puts "
                    f"it under {script_name}/), or serve it from the web server.",
                    id="staticserve.W009",
                )
            )
    if url.prefix == "/":
        errors.append(
            Warning(
                "STATIC_URL is '/', so every request path is looked up as a static file "
                "first and static files shadow your URLconf.",
                hint="Use STATIC_URL = 'static/'; for files that must sit at the site root "
                "(robots.txt, favicon.ico) use STATICSERVE_ROOT.",
                id="staticserve.W010",
            )
        )
    return errors


def check_app_order(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    apps = list(settings.INSTALLED_APPS)
    ours = next(
        (i for i, a in enumerate(apps) if a.split(".apps.")[0] == "staticserve.django"), None
    )
    theirs = next(
        (i for i, a in enumerate(apps) if a.split(".apps.")[0] == "django.contrib.staticfiles"),
        None,
    )
    if ours is not None and theirs is not None and theirs < ours:
        return [
            Warning(
                "django.contrib.staticfiles is listed before staticserve.django in "
                "INSTALLED_APPS, so runserver serves static files itself instead of "
                "leaving them to the middleware.",
                hint="Move 'staticserve.django' above 'django.contrib.staticfiles' in "
                "INSTALLED_APPS.",
                id="staticserve.W011",
            )
        ]
    return []


def check_whitenoise_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W012: each WHITENOISE_* setting, named with the STATICSERVE_* one to rename it to."""
    messages: list[CheckMessage] = []
    for name in sorted(n for n in dir(settings) if n.startswith("WHITENOISE_")):
        short = name[len("WHITENOISE_") :]
        ours = "STATICSERVE_" + short
        if short not in ss_settings.WHITENOISE_EQUIVALENTS:
            messages.append(
                Warning(
                    f"{name} has no staticserve equivalent and is ignored.",
                    hint="Remove it; docs/migrating-from-whitenoise.md lists every setting.",
                    id="staticserve.W012",
                )
            )
        elif hasattr(settings, ours):
            messages.append(
                Warning(
                    f"{name} is ignored because {ours} is set.",
                    hint=f"Remove {name}.",
                    id="staticserve.W012",
                )
            )
        else:
            messages.append(
                Warning(
                    f"{name} is read in place of {ours}, which is not set.",
                    hint=f"Rename {name} to {ours} (same value; see "
                    "docs/migrating-from-whitenoise.md for any difference in meaning).",
                    id="staticserve.W012",
                )
            )
    return messages
