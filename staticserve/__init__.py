"""staticserve: serve static files from the application process.

One core (index + sans-IO HTTP) behind thin ASGI, WSGI and Django adapters.
"""

from .asgi import StaticServe
from .config import Config, ConfigError
from .http import respond
from .index import StaticIndex
from .plan import FileSlice, Multipart, Plan
from .resource import Resource, Variant
from .service import StaticFiles
from .wsgi import StaticServeWSGI

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
