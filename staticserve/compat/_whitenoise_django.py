"""``whitenoise.middleware``'s names on staticserve's Django middleware (imports Django)."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse

from ..django import settings as ss_settings
from ..django.middleware import StaticServeMiddleware
from ._hooks import FOREVER, overridden, path_is_child_of, whitenoise_spelling


class WhiteNoiseFileResponse(FileResponse):
    """As WhiteNoise's: a FileResponse that sets none of Django's default headers."""

    def set_headers(self, *args: Any, **kwargs: Any) -> None:
        pass


class WhiteNoiseMiddleware(StaticServeMiddleware):
    """``whitenoise.middleware.WhiteNoiseMiddleware`` on staticserve's middleware.

    Reads ``STATICSERVE_*`` settings, or their ``WHITENOISE_*`` names when those
    are absent (as :class:`~staticserve.django.StaticServeMiddleware` does);
    a subclass's ``immutable_file_test(self, path, url)`` method is honoured;
    headers are spelled as WhiteNoise spells them (``max-age=60, public``).
    """

    FOREVER = FOREVER
    path_is_child_of = staticmethod(path_is_child_of)  # WhiteNoise's helper, for subclasses

    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        if settings is not django_settings:
            raise ImproperlyConfigured(
                "staticserve's WhiteNoiseMiddleware reads django.conf.settings only; "
                "use override_settings() instead of passing a settings object"
            )
        super().__init__(get_response)

    def core_overrides(self) -> dict[str, Any]:
        add_headers = ss_settings.core_options().get("add_headers")
        overrides = {"add_headers": whitenoise_spelling(add_headers, "add_headers_function")}
        hook = overridden(self, "immutable_file_test", WhiteNoiseMiddleware)
        if hook is not None:
            overrides["immutable_file_test"] = hook
        return overrides

    def immutable_file_test(self, path: str, url: str) -> bool:
        """WhiteNoise's subclass hook. Not overridden, the manifest decides (hashed names)."""
        return False
