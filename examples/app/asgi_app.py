"""Plain ASGI with staticserve in front: build with `staticserve build assets/ --out static/`."""

from pathlib import Path

from staticserve import StaticServe
from staticserve.asgi import Receive, Scope, Send

STATIC_ROOT = Path(__file__).resolve().parent / "static"


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":  # lifespan: nothing to start or stop
        return
    found = scope["path"] == "/"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send(
        {"type": "http.response.body", "body": b"Hello from ASGI" if found else b"Not found"}
    )


# Requests under /static/ that name a file are answered here; the rest go to hello().
app = StaticServe(hello, root=STATIC_ROOT, prefix="/static/")
