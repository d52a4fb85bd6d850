"""Apps the real servers import: staticserve wrapped around a tiny app.

Every server imports the app in its own process, so the settings come from
the environment: ``STATICSERVE_TEST_ROOT`` (the static root, served at
``/static/``) and ``STATICSERVE_TEST_OPTIONS`` (JSON keyword options).

The wrapped app answers every HTTP request it receives with
``app: <METHOD> <path>`` so tests can tell a pass-through from a static
response; ``/app/lifespan`` reports whether the ASGI lifespan startup hook
ran, and a websocket at any path echoes text messages back prefixed
``echo: ``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from staticserve import StaticServe, StaticServeWSGI

ROOT = os.environ.get("STATICSERVE_TEST_ROOT", "")
OPTIONS: dict[str, Any] = json.loads(os.environ.get("STATICSERVE_TEST_OPTIONS", "{}"))

lifespan_state = {"started": False}


async def inner_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                lifespan_state["started"] = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    elif scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": "echo: " + (message.get("text") or "")})
    else:
        if scope["path"] == "/app/lifespan":
            body = b"started" if lifespan_state["started"] else b"not started"
        else:
            body = f"app: {scope['method']} {scope['path']}".encode()
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
    body = f"app: {environ['REQUEST_METHOD']} {path}".encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]


asgi_app = StaticServe(inner_asgi, root=ROOT, prefix="/static/", **OPTIONS) if ROOT else None
wsgi_app = StaticServeWSGI(inner_wsgi, root=ROOT, prefix="/static/", **OPTIONS) if ROOT else None
