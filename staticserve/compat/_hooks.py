"""What the WSGI and Django compat classes share (a module of its own, so that
``whitenoise`` and its lazily loaded Django half do not import each other)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..resource import IMMUTABLE_CACHE_CONTROL

#: The max-age staticserve sends for immutable files (WhiteNoise: 10 years; one
#: year is the longest RFC 9111 caches are asked to honour, and what CDNs cap at).
FOREVER = int(IMMUTABLE_CACHE_CONTROL.split("max-age=")[1].split(",")[0])


def overridden(instance: object, name: str, base: type) -> Callable[..., Any] | None:
    """A subclass's override of WhiteNoise's hook method ``name``, bound; else None."""
    if getattr(type(instance), name) is getattr(base, name):
        return None
    return getattr(instance, name)  # type: ignore[no-any-return]
