"""The inner application every contender wraps, and the bare ceilings.

``BODY`` is a constant 2 KB body.  Paths under ``/static/`` that reach the inner
app get a 404 (what a web framework would answer for an unknown static URL);
every other path gets ``200 BODY``.  Served directly, the inner app *is* the
bare ceiling: the per-request cost of the server itself.
"""

from __future__ import annotations

import os

ROOT = os.environ.get("BENCH_ROOT", "")
PREFIX = os.environ.get("BENCH_PREFIX", "/static/")

BODY = (b"0123456789abcdef" * 128)[:2048]
NOT_FOUND = b"Not Found"

_OK_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(BODY)).encode()),
]
_404_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(NOT_FOUND)).encode()),
]
_OK_START = {"type": "http.response.start", "status": 200, "headers": _OK_HEADERS}
_OK_BODY = {"type": "http.response.body", "body": BODY}
_404_START = {"type": "http.response.start", "status": 404, "headers": _404_HEADERS}
_404_BODY = {"type": "http.response.body", "body": NOT_FOUND}


async def bare_asgi(scope, receive, send):
    if scope["type"] == "http":
        if scope["path"].startswith(PREFIX):
            await send(_404_START)
            await send(_404_BODY)
        else:
            await send(_OK_START)
            await send(_OK_BODY)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


_WSGI_OK = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]
_WSGI_404 = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(NOT_FOUND)))]


def bare_wsgi(environ, start_response):
    if environ.get("PATH_INFO", "").startswith(PREFIX):
        start_response("404 Not Found", _WSGI_404)
        return [NOT_FOUND]
    start_response("200 OK", _WSGI_OK)
    return [BODY]
