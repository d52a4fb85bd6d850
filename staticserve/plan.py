"""The values that cross from the sans-IO core to an adapter: a response plan.

A plan is status + header list + body, where the body is one of

* ``bytes``: send as is (``b""`` for HEAD, 304, 412, ...);
* :class:`FileSlice`: ``length`` bytes of a variant's file from ``offset``;
* :class:`Multipart`: a ``multipart/byteranges`` body, a sequence of ``bytes``
  and :class:`FileSlice` parts sent in order.

Header names and values are ``bytes`` (ASGI's form); WSGI adapters use
:meth:`Plan.str_headers`, which is cached for the plans built once per file.
"""

from __future__ import annotations

import os
from typing import Protocol

Headers = tuple[tuple[bytes, bytes], ...]


class FileRef(Protocol):
    """What a plan needs of a file on disk (a :class:`~staticserve.resource.Variant`).

    A protocol rather than an import, so that ``resource`` (which builds plans)
    depends on ``plan`` and never the other way round.
    """

    path: str
    size: int
    mtime_ns: int

    def matches_disk(self) -> bool: ...

    def matches_stat(self, st: os.stat_result) -> bool: ...


class FileSlice:
    __slots__ = ("length", "offset", "variant")

    def __init__(self, variant: FileRef, offset: int, length: int) -> None:
        self.variant = variant
        self.offset = offset
        self.length = length

    @property
    def is_whole_file(self) -> bool:
        return self.offset == 0 and self.length == self.variant.size

    def __repr__(self) -> str:
        return f"FileSlice({self.variant.path!r}, {self.offset}, {self.length})"


class Multipart:
    __slots__ = ("parts",)

    def __init__(self, parts: tuple[bytes | FileSlice, ...]) -> None:
        self.parts = parts

    @property
    def length(self) -> int:
        return sum(len(p) if isinstance(p, bytes) else p.length for p in self.parts)


Body = bytes | FileSlice | Multipart

STATUS_PHRASES = {
    200: "OK",
    206: "Partial Content",
    302: "Found",
    304: "Not Modified",
    404: "Not Found",
    405: "Method Not Allowed",
    412: "Precondition Failed",
    416: "Range Not Satisfiable",
}


_STATUS_LINES: dict[int, str] = {}

# Header pairs most files share (Content-Type, Cache-Control, Vary, ...), one
# object each, with their WSGI (str) form: a worker holds a header list per
# file, so sharing is most of what they cost. Bounded; past it, not shared.
_SHARED_PAIRS_MAX = 4096
_shared_pairs: dict[tuple[bytes, bytes], tuple[bytes, bytes]] = {}
_str_pairs: dict[tuple[bytes, bytes], tuple[str, str]] = {}


def shared_pair(name: bytes, value: bytes) -> tuple[bytes, bytes]:
    """The one shared ``(name, value)`` header pair equal to this one."""
    pair = (name, value)
    found = _shared_pairs.get(pair)
    if found is not None:
        return found
    if len(_shared_pairs) < _SHARED_PAIRS_MAX:
        _shared_pairs[pair] = pair
        _str_pairs[pair] = (name.decode("latin-1"), value.decode("latin-1"))
    return pair


def _status_line(status: int) -> str:
    """``200 OK``: one shared string per status (a worker holds many plans)."""
    line = _STATUS_LINES.get(status)
    if line is None:
        line = _STATUS_LINES[status] = f"{status} {STATUS_PHRASES.get(status, '')}".rstrip()
    return line


class Plan:
    """What to send: built by :mod:`staticserve.http`, executed by an adapter."""

    __slots__ = ("_str_headers", "body", "headers", "status", "status_line")

    def __init__(self, status: int, headers: Headers, body: Body) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.status_line = _status_line(status)
        self._str_headers: list[tuple[str, str]] | None = None

    def str_headers(self) -> list[tuple[str, str]]:
        """Headers as WSGI wants them (latin-1 ``str``), computed once per plan."""
        if self._str_headers is None:
            shared = _str_pairs
            self._str_headers = [
                shared.get(h) or (h[0].decode("latin-1"), h[1].decode("latin-1"))
                for h in self.headers
            ]
        # WSGI servers may append to the list they are given: hand out a copy.
        return list(self._str_headers)

    def __repr__(self) -> str:
        return f"Plan({self.status}, {self.headers!r}, {self.body!r})"
