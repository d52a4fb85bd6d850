"""The inner WSGI app marking its own 404, served directly (see app_marked_asgi.py)."""

from app_marked_asgi import MISS_HEADER
from common import _WSGI_404, NOT_FOUND, PREFIX, bare_wsgi

_MARKED_404 = [*_WSGI_404, tuple(part.decode("latin-1") for part in MISS_HEADER)]


def app(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(PREFIX):
        start_response("404 Not Found", _MARKED_404)
        return [NOT_FOUND]
    return bare_wsgi(environ, start_response)
