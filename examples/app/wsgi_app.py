"""A plain WSGI app with staticserve in front: build with `staticserve build assets/ --out static/`."""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from staticserve import StaticServeWSGI

STATIC_ROOT = Path(__file__).resolve().parent / "static"


def hello(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] != "/":
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found"]
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"Hello from WSGI"]


# Requests under /static/ that name a file are answered here; the rest go to hello().
app = StaticServeWSGI(hello, root=STATIC_ROOT, prefix="/static/")
