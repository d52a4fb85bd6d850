"""The C fast path (``staticserve._speedups``), when it is built and allowed.

The adapters' per-request fast path (:meth:`StaticFiles.find`, then
:func:`staticserve.http.respond_plain`, then the protocol's messages) has a C
twin in ``_speedups.c``, built by ``pip install`` where a C compiler is
available. It answers the same requests with the same bytes (checked by
``tests/test_speedups.py``) and hands everything else to the Python path. Set
``STATICSERVE_NO_SPEEDUPS=1`` to run pure Python.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

_T = TypeVar("_T")


def _load() -> ModuleType | None:
    try:
        return importlib.import_module("staticserve._speedups")
    except ImportError:  # not built (no C compiler at install time)
        return None


_speedups = _load()

_TURNED_OFF = os.environ.get("STATICSERVE_NO_SPEEDUPS", "") not in ("", "0")
#: Whether adapters built from now on use the C fast path.
ENABLED: bool = _speedups is not None and not _TURNED_OFF


def built() -> bool:
    """Whether the C extension was compiled and imports."""
    return _speedups is not None


def _same(value: _T) -> _T:
    return value


#: The object the C path keeps for an ``Accept-Encoding`` value (the first it
#: met with that text); ``http.select_variant`` stores it as the negotiation
#: table's key, so that the C lookup meets its own key object. Without the C
#: path, the value itself.
kept_accept: Callable[[_T], _T] = _speedups.kept_accept if ENABLED and _speedups else _same


def lookup_class() -> Any | None:
    """``_speedups.Lookup`` when the fast path is on, else None."""
    return _speedups.Lookup if ENABLED and _speedups is not None else None


#: Whether the adapters' call is C (decided once, at import): their base
#: classes below, "the fronts" of ``_speedups.c``, answer a hit without
#: bytecode and hand everything else to the adapter's ``_serve``. Where the
#: extension is not built or is turned off they are plain classes, and the
#: adapters make ``_serve`` their ``__call__`` (asgi.py, wsgi.py), which costs
#: no more than an adapter written without any C.
C_FRONTS: bool = ENABLED

if TYPE_CHECKING:
    from ._speedups import ASGIFront as ASGIFront
    from ._speedups import WSGIFront as WSGIFront
elif C_FRONTS and _speedups is not None:
    ASGIFront, WSGIFront = _speedups.ASGIFront, _speedups.WSGIFront
else:

    class ASGIFront:
        pass

    class WSGIFront:
        pass
