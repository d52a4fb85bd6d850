"""The inner ASGI app whose 404 carries staticserve's miss header itself, served directly."""

from common import marked_asgi as app

__all__ = ["app"]
