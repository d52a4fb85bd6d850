"""Django integration: middleware, storage backends, checks, SRI tags, runserver.

Set-up (see ``docs/django.md``)::

    INSTALLED_APPS = ["staticserve.django", "django.contrib.staticfiles", ...]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "staticserve.django.StaticServeMiddleware",
        ...
    ]
    STORAGES = {"staticfiles": {
        "BACKEND": "staticserve.django.storage.CompressedManifestStaticFilesStorage"}}

This package imports Django lazily: ``StaticServeMiddleware`` is loaded on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["StaticServeMiddleware"]


def __getattr__(name: str) -> Any:
    if name == "StaticServeMiddleware":
        from .middleware import StaticServeMiddleware

        return StaticServeMiddleware
    raise AttributeError(name)
