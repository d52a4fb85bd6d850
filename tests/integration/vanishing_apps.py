"""Standalone staticserve apps for test_vanished_files.py, counting their stats of one file.

Settings from the environment (every server imports the app in its own
process): ``STATICSERVE_TEST_ROOT``, ``STATICSERVE_TEST_OPTIONS`` (JSON) and
``STATICSERVE_TEST_WATCHED``, a file path whose ``os.stat`` / ``os.lstat``
calls this process counts. ``GET /count`` answers that count; every other
request goes to staticserve, which answers 404 itself when no file does.
"""

from __future__ import annotations

import json
import os
from typing import Any

from staticserve import StaticServe, StaticServeWSGI

ROOT = os.environ.get("STATICSERVE_TEST_ROOT", "")
OPTIONS: dict[str, Any] = json.loads(os.environ.get("STATICSERVE_TEST_OPTIONS", "{}"))
WATCHED = os.environ.get("STATICSERVE_TEST_WATCHED", "")

stat_calls = 0


def _counting(real: Any) -> Any:
    def call(path: Any, *args: Any, **kwargs: Any) -> Any:
        global stat_calls
        if path == WATCHED:
            stat_calls += 1
        return real(path, *args, **kwargs)

    return call


os.stat = _counting(os.stat)
os.lstat = _counting(os.lstat)

_asgi = StaticServe(None, root=ROOT, prefix="/static/", **OPTIONS) if ROOT else None
_wsgi = StaticServeWSGI(None, root=ROOT, prefix="/static/", **OPTIONS) if ROOT else None


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"] == "/count":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": str(stat_calls).encode()})
        return
    assert _asgi is not None
    await _asgi(scope, receive, send)


def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
    if environ.get("PATH_INFO") == "/count":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [str(stat_calls).encode()]
    assert _wsgi is not None
    return _wsgi(environ, start_response)
