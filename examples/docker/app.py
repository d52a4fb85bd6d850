"""The example app of the Docker image: a WSGI app with staticserve in front."""

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from staticserve import StaticServeWSGI

STATIC_ROOT = Path(__file__).resolve().parent / "static"  # built in the image's first stage


def pages(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] != "/":
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found"]
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
    return [b'<link rel="stylesheet" href="/static/css/site.css"><h1>Hello from Docker</h1>']


app = StaticServeWSGI(pages, root=STATIC_ROOT, prefix="/static/")
