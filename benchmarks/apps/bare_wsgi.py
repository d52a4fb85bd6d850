"""Ceiling: the inner WSGI app served directly."""

from common import bare_wsgi as app

__all__ = ["app"]
