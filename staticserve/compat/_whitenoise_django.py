"""``whitenoise.middleware``'s names on staticserve's Django middleware (imports Django)."""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.http import FileResponse

from ..django.middleware import StaticServeMiddleware
from ._hooks import FOREVER, overridden


class WhiteNoiseFileResponse(FileResponse):
    """As WhiteNoise's: a FileResponse that sets none of Django's default headers."""

    def set_headers(self, *args: Any, **kwargs: Any) -> None:
        pass


class WhiteNoiseMiddleware(StaticServeMiddleware):
    """``whitenoise.middleware.WhiteNoiseMiddleware`` on staticserve's middleware.

    Reads ``STATICSERVE_*`` settings, or their ``WHITENOISE_*`` names when those
    are absent (as :class:`~staticserve.django.StaticServeMiddleware` does);
    a subclass's ``immutable_file_test(self, path, url)`` method is honoured.
    """

    FOREVER = FOREVER

    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        if settings is not django_settings:
            raise ImproperlyConfigured(
                "staticserve's WhiteNoiseMiddleware reads django.conf.settings only; "
                "use override_settings() instead of passing a settings object"
            )
        super().__init__(get_response)

    def core_overrides(self) -> dict[str, Any]:
        hook = overridden(self, "immutable_file_test", WhiteNoiseMiddleware)
        return {"immutable_file_test": hook} if hook is not None else {}

    def immutable_file_test(self, path: str, url: str) -> bool:
        """WhiteNoise's subclass hook. Not overridden, the manifest decides (hashed names)."""
        return False
