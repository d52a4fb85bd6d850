"""The header list handed to ``add_headers`` hooks: a list and a ``Headers`` at once.

staticserve's own hooks append ``(name, value)`` pairs to a list; WhiteNoise's
``add_headers_function`` hooks use :class:`wsgiref.headers.Headers` methods
(``headers["X-Foo"] = "1"``, ``add_header``, ``del headers[name]``). A
:class:`HeaderList` is a ``list`` of pairs that also has those methods (names
compared case-insensitively), so a hook written for either works unchanged.
It is used once per file, when the file's headers are built; never per request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, SupportsIndex, overload

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")


class HeaderList(list[tuple[str, str]]):
    """``list[tuple[str, str]]`` with :class:`wsgiref.headers.Headers`' mapping methods."""

    def __init__(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__(headers)

    def _indexes(self, name: str) -> list[int]:
        lower = name.lower()
        return [i for i, (k, _) in enumerate(self) if k.lower() == lower]

    @overload
    def __getitem__(self, key: SupportsIndex) -> tuple[str, str]: ...
    @overload
    def __getitem__(self, key: slice) -> list[tuple[str, str]]: ...
    @overload
    def __getitem__(self, key: str) -> str | None: ...
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self.get(key)  # wsgiref.headers.Headers returns None when absent
        return super().__getitem__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, str):
            del self[key]
            self.append((key, value))
        else:
            super().__setitem__(key, value)

    def __delitem__(self, key: Any) -> None:
        if isinstance(key, str):
            for i in reversed(self._indexes(key)):
                super().__delitem__(i)
        else:
            super().__delitem__(key)

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            return bool(self._indexes(key))
        return super().__contains__(key)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (any case), or ``default``."""
        found = self._indexes(name)
        return self[found[0]][1] if found else default

    def get_all(self, name: str) -> list[str]:
        return [self[i][1] for i in self._indexes(name)]

    def keys(self) -> list[str]:
        return [k for k, _ in self]

    def values(self) -> list[str]:
        return [v for _, v in self]

    def items(self) -> list[tuple[str, str]]:
        return list(self)

    def setdefault(self, name: str, value: str) -> str:
        current = self.get(name)
        if current is None:
            self.append((name, value))
            return value
        return current

    def add_header(self, _name: str, _value: str | None, **_params: str | None) -> None:
        """As :meth:`wsgiref.headers.Headers.add_header`: ``add_header("X", "v", a="b")``."""
        parts = [] if _value is None else [_value]
        for key, param in _params.items():
            key = key.replace("_", "-")
            parts.append(key if param is None else f'{key}="{param}"')
        self.append((_name, "; ".join(parts)))


def checked_pairs(headers: Iterable[object], source: str) -> list[tuple[str, str]]:
    """The pairs a hook left, vetted: str names that are tokens, latin-1 values, no CR/LF.

    ``source`` names the file in the error, so a bad hook is a clear error on
    that file's first request rather than a malformed response.
    """
    pairs = []
    for pair in headers:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise ValueError(
                f"staticserve: add_headers left {pair!r} for {source}; want (name, value)"
            )
        name, value = pair
        if not isinstance(name, str) or not _TOKEN.match(name):
            raise ValueError(
                f"staticserve: add_headers set a bad header name {name!r} for {source}"
            )
        if not isinstance(value, str):
            value = str(value)
        if "\r" in value or "\n" in value or "\x00" in value:
            raise ValueError(f"staticserve: add_headers header {name} for {source} contains CR/LF")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise ValueError(
                f"staticserve: add_headers header {name} for {source} is not latin-1 text"
            ) from None
        pairs.append((name, value))
    return pairs
