"""staticserve: serve static files from the application process.

One core (index + sans-IO HTTP) behind thin ASGI, WSGI and Django adapters.

The names below are imported on first use (PEP 562), so that the command line
(``staticserve build``, which never serves) does not pay for the adapters and
asyncio at every start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .asgi import StaticServe
    from .config import Config, ConfigError
    from .http import respond
    from .index import StaticIndex
    from .plan import FileSlice, Multipart, Plan
    from .resource import Resource, Variant
    from .service import StaticFiles
    from .wsgi import StaticServeWSGI

_WHERE = {
    "Config": "config",
    "ConfigError": "config",
    "FileSlice": "plan",
    "Multipart": "plan",
    "Plan": "plan",
    "Resource": "resource",
    "StaticFiles": "service",
    "StaticIndex": "index",
    "StaticServe": "asgi",
    "StaticServeWSGI": "wsgi",
    "Variant": "resource",
    "respond": "http",
}

__all__ = [
    "Config",
    "ConfigError",
    "FileSlice",
    "Multipart",
    "Plan",
    "Resource",
    "StaticFiles",
    "StaticIndex",
    "StaticServe",
    "StaticServeWSGI",
    "Variant",
    "respond",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'staticserve' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
