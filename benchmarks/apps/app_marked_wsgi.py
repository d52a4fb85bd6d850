"""The inner WSGI app whose 404 carries staticserve's miss header itself, served directly."""

from common import marked_wsgi as app

__all__ = ["app"]
