"""Record what staticserve sends for each scenario, for the header-matched apps.

Calls staticserve's own ASGI and WSGI middleware in-process (wrapping the same
inner app as in the benchmark) with each scenario's request and keeps the
status, the header list in order and the body. ``apps/matched_*.py`` replay
the recording from constants; see ``apps/matched.py``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
from pathlib import Path
from typing import Any


def _asgi_request(app: Any, path: str, headers: dict[str, str]) -> dict:
    async def call() -> list[dict]:
        sent: list[dict] = []
        requested = False

        async def receive() -> dict:
            nonlocal requested
            if not requested:
                requested = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await asyncio.Event().wait()  # the client never goes away
            raise AssertionError

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 50000),
        }
        await app(scope, receive, send)
        return sent

    sent = asyncio.run(call())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {
        "status": start["status"],
        "headers": [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start["headers"]],
        "body": body,
    }


def _wsgi_request(app: Any, path: str, headers: dict[str, str]) -> dict:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
    }
    for k, v in headers.items():
        environ["HTTP_" + k.upper().replace("-", "_")] = v
    started: list[Any] = []

    def start_response(status: str, response_headers: list, exc_info: Any = None) -> None:
        started[:] = [status, list(response_headers)]

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status_line, header_list = started
    return {
        "status": int(status_line.split()[0]),
        "status_line": status_line,
        "headers": header_list,
        "body": body,
    }


def _with_etag(call: Any, path: str, headers: dict[str, str], conditional: bool) -> dict:
    if conditional:
        first = call(path, headers)
        etag = next(v for n, v in first["headers"] if n.lower() == "etag")
        headers = {**headers, "If-None-Match": etag}
    return {**call(path, headers), "request_headers": headers}


def record(scenarios: list, root: Path, prefix: str, out: Path) -> dict[str, dict[str, int]]:
    """Write the recording to ``out``; returns {kind: {scenario: status}} for the log."""
    from common import bare_asgi, bare_wsgi
    from matched import path_for

    from staticserve import StaticServe, StaticServeWSGI

    asgi_app = StaticServe(bare_asgi, root=root, prefix=prefix)
    wsgi_app = StaticServeWSGI(bare_wsgi, root=root, prefix=prefix)
    data: dict[str, dict[str, dict]] = {"asgi": {}, "wsgi": {}}
    for sc in scenarios:
        data["asgi"][sc.key] = _with_etag(
            lambda p, h: _asgi_request(asgi_app, p, h), sc.path, sc.headers, sc.conditional
        )
        data["wsgi"][sc.key] = _with_etag(
            lambda p, h: _wsgi_request(wsgi_app, p, h), sc.path, sc.headers, sc.conditional
        )
    paths = {sc.key: path_for(sc.key, sc.path) for sc in scenarios}
    for recs in data.values():
        for key, rec in recs.items():
            rec["body"] = base64.b64encode(rec["body"]).decode()
            rec["path"] = paths[key]
    out.write_text(json.dumps(data, indent=1))
    return {kind: {k: r["status"] for k, r in recs.items()} for kind, recs in data.items()}
