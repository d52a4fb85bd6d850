"""The SPA fallback, in process: ASGI and WSGI adapters over the Vite build."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

from staticserve import StaticServe, StaticServeWSGI
from staticserve.config import ConfigError
from staticserve.http import accepts_html, is_navigation

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


# -- the rules (sans-IO) -------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (BROWSER, True),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("TEXT/HTML; charset=utf-8", True),
        ("text/html;q=0", False),
        ("text/html;q=0.000", False),
        ("*/*", False),  # fetch() and curl: never HTML in place of a 404
        ("text/*", False),
        ("application/json", False),
        ("", False),
        (None, False),
        ("text/html;q=bogus", False),
    ],
)
def test_accepts_html(accept: str | None, expected: bool) -> None:
    assert accepts_html(accept) is expected


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/about", True),
        ("HEAD", "/users/42/", True),
        ("GET", "/", True),
        ("GET", "/v1.2/docs", True),  # a dot in a directory is fine
        ("GET", "/assets/missing-ABCD1234.js", False),
        ("GET", "/favicon.ico", False),
        ("POST", "/about", False),
        ("DELETE", "/about", False),
    ],
)
def test_is_navigation(method: str, path: str, expected: bool) -> None:
    assert is_navigation(method, path) is expected


# -- adapters -------------------------------------------------------------------


async def api(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A wrapped app with an API and a page of its own; 404 for anything else."""
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/api/items":
        status, body, ctype = 200, json.dumps([1, 2]).encode(), b"application/json"
    elif path == "/login":
        status, body, ctype = 200, b"<p>app login page</p>", b"text/html"
    elif path == "/api/teapot":
        status, body, ctype = 418, b"{}", b"application/json"
    else:
        status, body, ctype = 404, b'{"detail":"Not Found"}', b"application/json"
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype)]}
    )
    await send({"type": "http.response.body", "body": body})


def wsgi_api(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    path = environ["PATH_INFO"]
    if path == "/api/items":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"[1, 2]"]
    if path == "/login":
        start_response("200 OK", [("Content-Type", "text/html")])
        return [b"<p>app login page</p>"]
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"detail":"Not Found"}']


def lazy_wsgi_api(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """start_response only with the first chunk, as PEP 3333 allows."""
    if environ["PATH_INFO"] == "/api/items":
        start_response("200 OK", [("Content-Type", "application/json")])
        yield b"[1, 2]"
        return
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    yield b"nope"


def _client(kind: str, dist: Path, **options: Any) -> httpx.Client | Any:
    options.setdefault("fallback", "index.html")
    options.setdefault("index_file", True)
    if kind == "asgi":
        app = StaticServe(
            options.pop("app", api), root=dist, prefix=options.pop("prefix", "/"), **options
        )
        return _AsyncClient(app)
    app = StaticServeWSGI(
        options.pop("app", wsgi_api), root=dist, prefix=options.pop("prefix", "/"), **options
    )
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://t")


class _AsyncClient:
    def __init__(self, app: Any) -> None:
        self.app = app

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.request(method, url, headers=headers)

        return asyncio.run(go())

    def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return self.request("GET", url, headers)


ADAPTERS = ["asgi", "wsgi"]


@pytest.mark.parametrize("kind", ADAPTERS)
def test_navigation_gets_the_index_page(kind: str, vite_dist: Path) -> None:
    r = _client(kind, vite_dist).get("/some/route", headers={"accept": BROWSER})
    assert r.status_code == 200
    assert r.content == (vite_dist / "index.html").read_bytes()
    assert r.headers["cache-control"] == "no-cache"
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "Accept" in r.headers["vary"]
    assert r.headers["etag"]


@pytest.mark.parametrize("kind", ADAPTERS)
def test_revisit_of_a_route_is_a_304(kind: str, vite_dist: Path) -> None:
    client = _client(kind, vite_dist)
    etag = client.get("/about", headers={"accept": BROWSER}).headers["etag"]
    r = client.get("/about", headers={"accept": BROWSER, "if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("kind", ADAPTERS)
def test_head_of_a_route_has_no_body(kind: str, vite_dist: Path) -> None:
    r = _client(kind, vite_dist).request("HEAD", "/about", headers={"accept": BROWSER})
    assert r.status_code == 200
    assert r.content == b""
    assert int(r.headers["content-length"]) == (vite_dist / "index.html").stat().st_size


@pytest.mark.parametrize("kind", ADAPTERS)
@pytest.mark.parametrize(
    "url", ["/assets/missing-ABCD1234.js", "/assets/nope-ABCDEFGH.js", "/favicon.ico"]
)
def test_missing_asset_stays_a_404_and_never_html(kind: str, url: str, vite_dist: Path) -> None:
    r = _client(kind, vite_dist).get(url, headers={"accept": BROWSER})
    assert r.status_code == 404
    assert b"<html" not in r.content.lower()


@pytest.mark.parametrize("kind", ADAPTERS)
@pytest.mark.parametrize("accept", ["*/*", "application/json", None])
def test_request_not_asking_for_html_gets_the_apps_404(
    kind: str, accept: str | None, vite_dist: Path
) -> None:
    headers = {"accept": accept} if accept else {}
    r = _client(kind, vite_dist).get("/about", headers=headers)
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("kind", ADAPTERS)
def test_post_to_a_route_is_the_apps_business(kind: str, vite_dist: Path) -> None:
    r = _client(kind, vite_dist).request("POST", "/about", headers={"accept": BROWSER})
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("kind", ADAPTERS)
@pytest.mark.parametrize(("url", "status"), [("/api/items", 200), ("/login", 200)])
def test_app_routes_are_never_shadowed(kind: str, url: str, status: int, vite_dist: Path) -> None:
    r = _client(kind, vite_dist).get(url, headers={"accept": BROWSER})
    assert r.status_code == status
    assert b"staticserve Vite fixture" not in r.content


def test_app_error_other_than_404_is_kept(vite_dist: Path) -> None:
    r = _client("asgi", vite_dist).get("/api/teapot", headers={"accept": BROWSER})
    assert r.status_code == 418


def test_wsgi_app_calling_start_response_late_is_handled(vite_dist: Path) -> None:
    client = _client("wsgi", vite_dist, app=lazy_wsgi_api)
    assert client.get("/api/items", headers={"accept": BROWSER}).content == b"[1, 2]"
    r = client.get("/about", headers={"accept": BROWSER})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize("kind", ADAPTERS)
def test_standalone_serves_the_fallback(kind: str, vite_dist: Path) -> None:
    r = _client(kind, vite_dist, app=None).get("/about", headers={"accept": BROWSER})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    assert _client(kind, vite_dist, app=None).get("/about").status_code == 404


@pytest.mark.parametrize("kind", ADAPTERS)
def test_under_a_prefix_the_fallback_applies_only_there(kind: str, vite_dist: Path) -> None:
    client = _client(kind, vite_dist, prefix="/app/")
    assert client.get("/app/settings", headers={"accept": BROWSER}).status_code == 200
    r = client.get("/elsewhere", headers={"accept": BROWSER})
    assert r.status_code == 404 and r.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("kind", ADAPTERS)
def test_assets_are_still_served_immutable(kind: str, vite_dist: Path) -> None:
    r = _client(kind, vite_dist).get("/assets/index-BvmkIFtm.js", headers={"accept": "*/*"})
    assert r.status_code == 200
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_fallback_missing_from_the_root_is_a_startup_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"fallback file 'index\.html' is not in root"):
        StaticServe(None, root=tmp_path, prefix="/", fallback="index.html")


@pytest.mark.parametrize("bad", ["", "../index.html", ".hidden.html", "a//b.html"])
def test_fallback_must_name_a_file_below_the_prefix(bad: str, vite_dist: Path) -> None:
    with pytest.raises(ConfigError, match="option fallback"):
        StaticServe(None, root=vite_dist, prefix="/", fallback=bad)


def test_giant_accept_header_is_read_only_up_to_its_bound() -> None:
    assert accepts_html("text/html, " + "x/y, " * 200_000)
    assert not accepts_html("x/y, " * 200_000 + "text/html")
