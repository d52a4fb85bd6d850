"""Apps the hardening tests' real servers import, configured by env vars.

Every server imports the app in its own process, so settings come from the
environment:

* ``HARDEN_ROOT``: the static root, served at ``/static/``;
* ``HARDEN_OPTIONS``: JSON keyword options for staticserve (e.g.
  ``{"max_age": 1, "autorefresh": true}``).

``asgi_app`` / ``wsgi_app`` wrap a tiny app that answers everything else with
``app: <METHOD> <path>`` (so a pass-through is visible and never a file);
``asgi_standalone`` / ``wsgi_standalone`` answer 404 instead.

``asgi_counted`` is ``asgi_app`` behind a counter of what reached the origin:
``GET /__origin__`` returns a JSON list of ``[path, status, if-none-match]``
for every request staticserve answered, so a test behind a cache can see
which requests the cache passed on.
"""

from __future__ import annotations

import json
import os
from typing import Any

from staticserve import StaticServe, StaticServeWSGI

ROOT = os.environ.get("HARDEN_ROOT", "")
OPTIONS: dict[str, Any] = json.loads(os.environ.get("HARDEN_OPTIONS", "{}"))


async def inner_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
        return
    body = f"app: {scope['method']} {scope['path']}".encode("utf-8", "replace")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def inner_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    body = f"app: {environ['REQUEST_METHOD']} {path}".encode("utf-8", "replace")
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


class OriginCounter:
    """Records every request that reaches the origin (behind a cache)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[list[Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/__origin__":
            body = json.dumps(self.seen).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return None
        headers = dict(scope["headers"])
        record = [
            scope["path"],
            0,
            headers.get(b"if-none-match", b"").decode("latin-1"),
            headers.get(b"accept-encoding", b"").decode("latin-1"),
        ]
        self.seen.append(record)

        async def counting_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                record[1] = message["status"]
            await send(message)

        return await self.app(scope, receive, counting_send)


if ROOT:
    asgi_app: Any = StaticServe(inner_asgi, root=ROOT, prefix="/static/", **OPTIONS)
    asgi_standalone: Any = StaticServe(None, root=ROOT, prefix="/static/", **OPTIONS)
    asgi_counted: Any = OriginCounter(asgi_app)
    wsgi_app: Any = StaticServeWSGI(inner_wsgi, root=ROOT, prefix="/static/", **OPTIONS)
    wsgi_standalone: Any = StaticServeWSGI(None, root=ROOT, prefix="/static/", **OPTIONS)
