"""The replicas of the rolling-deploy test: a page app behind staticserve.

Each replica serves one root built by ``staticserve build`` (``DEPLOY_ROOT``).
The page at ``/`` is what an application renders: HTML naming the hashed
asset URLs from the root's manifest (as Django's ``{% static %}`` does), with a
short ``max-age``, read once when the process starts, like any deployed app.
Anything else the page app is asked for is a plain 404 without a
``Cache-Control`` of its own, so misses under ``/static/`` exercise
staticserve's fall-through marking (``DEPLOY_MISS_CACHE_CONTROL``, JSON:
``"no-store"`` or ``null`` for the old, cacheable behaviour).

``/__misses__`` reports how many such misses this process has answered, so the
test can show that the failure mode really happened. ``wsgi`` runs under
gunicorn (one sync worker), ``asgi`` under uvicorn (one process).
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from typing import Any

from staticserve import StaticServe, StaticServeWSGI
from staticserve.asgi import _standalone_other as standalone_other

ROOT = os.environ.get("DEPLOY_ROOT", "")
MISS = json.loads(os.environ.get("DEPLOY_MISS_CACHE_CONTROL", '"no-store"'))
# The assets the page links to directly (the stylesheet links more by url()).
PAGE_ASSETS = ("css/site.css", "js/app.js", "js/vendor.js", "img/logo.svg")
PAGE_MAX_AGE = 1


def render_page(root: str) -> bytes:
    with open(os.path.join(root, "staticfiles.json"), encoding="utf-8") as f:
        paths = json.load(f)["paths"]
    with open(os.path.join(root, "release.txt"), encoding="utf-8") as f:
        release = f.read().strip()
    links = "\n".join(
        f'<link rel="preload" href="/static/{html.escape(paths[name])}">' for name in PAGE_ASSETS
    )
    return (
        f'<!doctype html>\n<meta name="release" content="{html.escape(release)}">\n{links}\n'
    ).encode()


PAGE = render_page(ROOT) if ROOT else b""
PAGE_HEADERS = [
    ("content-type", "text/html; charset=utf-8"),
    ("cache-control", f"public, max-age={PAGE_MAX_AGE}"),
    ("content-length", str(len(PAGE))),
]
NOT_FOUND_HEADERS = [("content-type", "text/plain"), ("content-length", "9")]
MISSES = [0]  # 404s answered under /static/ (one process per replica)


def _answer(path: str) -> tuple[int, list[tuple[str, str]], bytes]:
    if path == "/":
        return 200, PAGE_HEADERS, PAGE
    if path == "/__misses__":
        body = str(MISSES[0]).encode()
        return 200, [("content-type", "text/plain"), ("content-length", str(len(body)))], body
    if path.startswith("/static/"):
        MISSES[0] += 1
    return 404, NOT_FOUND_HEADERS, b"Not Found"


def page_wsgi(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    status, headers, body = _answer(environ.get("PATH_INFO", ""))
    start_response("200 OK" if status == 200 else "404 Not Found", list(headers))
    return [body]


async def page_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return await standalone_other(scope, receive, send)  # lifespan: complete it
    status, headers, body = _answer(scope["path"])
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(k.encode(), v.encode()) for k, v in headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _options() -> dict[str, Any]:
    return {"root": ROOT, "prefix": "/static/", "miss_cache_control": MISS}


wsgi = StaticServeWSGI(page_wsgi, **_options()) if ROOT else None
asgi = StaticServe(page_asgi, **_options()) if ROOT else None
