"""Ceiling: the inner ASGI app served directly."""

from common import bare_asgi as app

__all__ = ["app"]
