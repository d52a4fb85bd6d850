"""Types of the C fast path (``_speedups.c``); see :mod:`staticserve.speedups`."""

from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

_T = TypeVar("_T")

def kept_accept(value: _T, /) -> _T: ...

class Lookup:
    def __init__(
        self,
        *,
        entries: dict[str, Any],
        pending: dict[str, Any],
        gone: dict[str, float],
        prefixes: tuple[str, ...],
        miss_prefixes: tuple[str, ...],
        fresh_for: float,
        recheck: bool,
        recheck_interval: float,
        fallbacks: bool,
        resource_type: type,
        clock: dict[str, Any],
        select_variant: Callable[..., Any],
        miss_header: tuple[bytes, bytes] | None,
        miss_header_str: tuple[str, str] | None,
    ) -> None: ...
    def asgi(self, scope: Any, send: Any, /) -> Any: ...
    def wsgi(self, environ: Any, start_response: Any, /) -> Any: ...

class ASGIFront:
    app: Any
    _fast: Lookup | None
    def __call__(self, scope: Any, receive: Any, send: Any, /) -> Awaitable[None]: ...

class WSGIFront:
    app: Any
    _fast: Lookup | None
    def __call__(self, environ: Any, start_response: Any, /) -> Iterable[bytes]: ...
