"""STATICSERVE_* settings, read once, with defaults tied to ``DEBUG``.

Every setting is documented in ``docs/django.md``. :func:`get_settings`
reads Django's settings at call time (the middleware calls it once, at
start-up); it never caches, so tests using ``override_settings`` see their
values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..index import normalize_prefix

_MISSING = object()

#: Setting name (without the STATICSERVE_ prefix) → default, or a callable of DEBUG.
DEFAULTS: dict[str, Any] = {
    "MAX_AGE": None,  # None: 60 s in production, no-cache with AUTOREFRESH
    "MISS_CACHE_CONTROL": "no-store",  # Cache-Control of errors under STATIC_URL
    "INDEX_FILE": False,
    "ALLOW_ALL_ORIGINS": True,
    "ADD_HEADERS_FUNCTION": None,
    "MIMETYPES": None,
    "CHARSET": "utf-8",
    "USE_FINDERS": lambda debug: debug,
    "AUTOREFRESH": lambda debug: debug,
    "ROOT": None,
    "IMMUTABLE_FILE_TEST": _MISSING,  # the core's default: Django's 12-hex hashed names
    "SERVE_CDN_URL_PATH": False,
    "STATIC_PREFIX": None,  # None: STATIC_URL's path (below FORCE_SCRIPT_NAME)
    "KEEP_ONLY_HASHED_FILES": False,
    "KEEP_RELEASES": 3,  # staticserve.pipeline.releases.DEFAULT_KEEP
    "MANIFEST_STRICT": True,
    "MISSING_REFERENCES": "error",
    "MISSING_SOURCE_MAPS": "warn",
    "ES_MODULES": True,
    "COMPRESS_ENCODINGS": None,
    "SKIP_COMPRESS_EXTENSIONS": (),
    "COMPRESS_MIN_SAVING": 0.05,
    "COMPRESS_WORKERS": None,
    "FALLBACK": None,
    "OPTIONS": {},
}


#: STATICSERVE_* settings that WhiteNoise has under the name WHITENOISE_*: read when
#: the STATICSERVE_ one is absent, so a migrating project keeps its settings (the
#: system check staticserve.W012 names each one to rename).
WHITENOISE_EQUIVALENTS = frozenset(
    {
        "MAX_AGE", "INDEX_FILE", "ALLOW_ALL_ORIGINS", "ADD_HEADERS_FUNCTION", "MIMETYPES",
        "CHARSET", "USE_FINDERS", "AUTOREFRESH", "ROOT", "IMMUTABLE_FILE_TEST",
        "KEEP_ONLY_HASHED_FILES", "MANIFEST_STRICT", "SKIP_COMPRESS_EXTENSIONS",
        "STATIC_PREFIX",
    }
)  # fmt: skip


def is_set(name: str) -> bool:
    """Whether ``STATICSERVE_<name>`` (or its ``WHITENOISE_<name>``) is in the settings."""
    return hasattr(settings, "STATICSERVE_" + name) or (
        name in WHITENOISE_EQUIVALENTS and hasattr(settings, "WHITENOISE_" + name)
    )


def setting(name: str) -> Any:
    """``STATICSERVE_<name>``, else ``WHITENOISE_<name>``, else the default (of DEBUG)."""
    value = getattr(settings, "STATICSERVE_" + name, _MISSING)
    if value is _MISSING and name in WHITENOISE_EQUIVALENTS:
        value = getattr(settings, "WHITENOISE_" + name, _MISSING)
    if value is _MISSING:
        value = DEFAULTS[name]
        if callable(value):
            value = value(bool(settings.DEBUG))
    return value


def _callable(name: str, value: Any) -> Callable[..., Any] | None:
    if value is None or callable(value):
        return cast("Callable[..., Any] | None", value)
    if isinstance(value, str):
        try:
            return cast("Callable[..., Any]", import_string(value))
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"STATICSERVE_{name} = {value!r} cannot be imported ({exc}); "
                "give a dotted path to a function or the function itself"
            ) from None
    raise ImproperlyConfigured(f"STATICSERVE_{name} must be a function or a dotted path to one")


@dataclass(frozen=True)
class StaticURL:
    """How ``STATIC_URL`` maps to requests this process answers."""

    url: str  # settings.STATIC_URL as Django reports it
    is_absolute: bool  # a full URL (CDN): scheme://host/path
    prefix: str | None  # the path below the script name served here; None = not served

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def static_url() -> StaticURL:
    """Where static files are served, as a path below ``FORCE_SCRIPT_NAME``."""
    url = settings.STATIC_URL or ""
    parts = urlsplit(url)
    is_absolute = bool(parts.scheme or parts.netloc)
    static_prefix = setting("STATIC_PREFIX")
    if static_prefix:
        # Explicitly given (WhiteNoise's WHITENOISE_STATIC_PREFIX): taken as is.
        return StaticURL(url, is_absolute, normalize_prefix(str(static_prefix)))
    if not url or (is_absolute and not setting("SERVE_CDN_URL_PATH")):
        return StaticURL(url, is_absolute, None)
    path = parts.path or "/"
    script_name = (settings.FORCE_SCRIPT_NAME or "").rstrip("/")
    if script_name and (path == script_name or path.startswith(script_name + "/")):
        path = path[len(script_name) :] or "/"
    return StaticURL(url, is_absolute, normalize_prefix(path))


def immutable_file_test() -> Any:
    """STATICSERVE_IMMUTABLE_FILE_TEST: a regex string, a function(path, url) or a dotted path."""
    value = setting("IMMUTABLE_FILE_TEST")
    if value is _MISSING:
        return _MISSING
    if isinstance(value, str):
        # A dotted path to a function(path, url) if it imports, else a regex.
        if re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+", value):
            try:
                return import_string(value)
            except ImportError:
                pass
        return value
    if value is None:
        return None
    return _callable("IMMUTABLE_FILE_TEST", value)


def core_options() -> dict[str, Any]:
    """Keyword options for :class:`staticserve.Config` from the STATICSERVE_* settings."""
    mimetypes = setting("MIMETYPES")
    if mimetypes is not None and not isinstance(mimetypes, Mapping):
        raise ImproperlyConfigured(
            "STATICSERVE_MIMETYPES must be a dict of extension (e.g. '.js') to Content-Type"
        )
    options: dict[str, Any] = {
        "max_age": setting("MAX_AGE"),
        "miss_cache_control": setting("MISS_CACHE_CONTROL"),
        "index_file": setting("INDEX_FILE"),
        "allow_all_origins": bool(setting("ALLOW_ALL_ORIGINS")),
        "add_headers": _callable("ADD_HEADERS_FUNCTION", setting("ADD_HEADERS_FUNCTION")),
        "mimetypes": dict(mimetypes) if mimetypes else None,
        "charset": setting("CHARSET"),
        "autorefresh": bool(setting("AUTOREFRESH")),
        "fallback": setting("FALLBACK"),
    }
    test = immutable_file_test()
    if test is not _MISSING:
        options["immutable_file_test"] = test
    extra = setting("OPTIONS")
    if not isinstance(extra, Mapping):
        raise ImproperlyConfigured("STATICSERVE_OPTIONS must be a dict of staticserve options")
    options.update(extra)
    return options
