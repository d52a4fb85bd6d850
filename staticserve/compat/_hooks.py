"""What the WSGI and Django compat classes share (a module of its own, so that
``whitenoise`` and its lazily loaded Django half do not import each other)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from ..config import AddHeaders, _check_hook
from ..headers import HeaderList
from ..resource import IMMUTABLE_CACHE_CONTROL

#: The max-age staticserve sends for immutable files (WhiteNoise: 10 years; one
#: year is the longest RFC 9111 caches are asked to honour, and what CDNs cap at).
FOREVER = int(IMMUTABLE_CACHE_CONTROL.split("max-age=")[1].split(",")[0])

# The core's spellings (resource.py) of the two Cache-Control values WhiteNoise
# also sends, and of a charset parameter (media_types.py).
_CORE_CACHE_CONTROL = re.compile(r"public, max-age=(\d+)(, immutable)?")
_UNQUOTED_CHARSET = re.compile(r'; charset=([^";\s]+)$')


def overridden(instance: object, name: str, base: type) -> Callable[..., Any] | None:
    """A subclass's override of WhiteNoise's hook method ``name``, bound; else None."""
    if getattr(type(instance), name) is getattr(base, name):
        return None
    return getattr(instance, name)  # type: ignore[no-any-return]


def whitenoise_spelling(add_headers: AddHeaders | None, option: str) -> AddHeaders:
    """An ``add_headers`` hook spelling headers as WhiteNoise does, then calling ``add_headers``.

    ``max-age=60, public`` (core: ``public, max-age=60``), ``max-age=31536000,
    public, immutable`` and ``charset="utf-8"`` quoted, as WhiteNoise's
    ``wsgiref.headers.Headers.add_header`` writes it: RFC 9110 makes both
    spellings equal, but tests written against WhiteNoise (its own, and
    users') compare the strings. The user's function sees WhiteNoise's
    spelling too. It runs once per file, when its headers are built, never
    per request. ``option`` names the user's setting in a shape error, raised
    here, at construction.
    """
    if add_headers is not None:
        _check_hook(option, add_headers, "(headers, path, url)")

    def spell_as_whitenoise(headers: HeaderList, path: str, url: str) -> None:
        for i, (name, value) in enumerate(headers):
            lower = name.lower()
            if lower == "cache-control":
                found = _CORE_CACHE_CONTROL.fullmatch(value)
                if found:
                    headers[i] = (name, f"max-age={found[1]}, public{found[2] or ''}")
            elif lower == "content-type":
                headers[i] = (name, _UNQUOTED_CHARSET.sub(r'; charset="\1"', value))
        if add_headers is not None:
            add_headers(headers, path, url)

    return spell_as_whitenoise


def path_is_child_of(path: str, root: str) -> bool:
    """WhiteNoise's ``path_is_child_of``: is ``path`` below ``root`` (ending in a separator)?"""
    try:
        return os.path.commonpath((path, root)) + os.path.sep == root
    except ValueError:  # different Windows drives, or a relative and an absolute path
        return False
