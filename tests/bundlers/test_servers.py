"""The Vite and webpack builds served by real servers, with real apps beside them.

FastAPI under uvicorn, Flask under gunicorn, a Django project under gunicorn
(WSGI) and uvicorn (ASGI): every asset immutable, index.html no-cache and a
304 on revisit, client-side routes answered with index.html, missing assets
and non-HTML requests 404, and the apps' API routes (200 and their own 404)
untouched.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.servers import Server, running_server

from .conftest import VITE_DIST, WEBPACK_DIST

pytestmark = pytest.mark.timeout(120)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
IMMUTABLE = "public, max-age=31536000, immutable"
APPS = [
    ("uvicorn", "tests.bundlers.apps:fastapi_app"),
    ("gunicorn", "tests.bundlers.apps:flask_app"),
    ("gunicorn", "tests.bundlers.django_spa.wsgi:application"),
    ("uvicorn", "tests.bundlers.django_spa.asgi:application"),
]


@pytest.fixture(scope="module", params=APPS, ids=lambda a: f"{a[0]}-{a[1].split('.')[-1]}")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    kind, target = request.param
    with running_server(kind, target, env={"STATICSERVE_TEST_DIST": str(VITE_DIST)}) as s:
        yield s


def _get(server: Server, path: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + path, headers=headers, timeout=30)


def test_every_asset_is_immutable(server: Server) -> None:
    for asset in sorted((VITE_DIST / "assets").iterdir()):
        r = _get(server, "/assets/" + asset.name)
        assert r.status_code == 200, asset.name
        assert r.headers["cache-control"] == IMMUTABLE, asset.name
        assert r.content == asset.read_bytes()


def test_index_html_is_no_cache_and_revalidates_to_304(server: Server) -> None:
    r = _get(server, "/", accept=BROWSER)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-cache"
    again = _get(server, "/", accept=BROWSER, **{"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("route", ["/some/route", "/about", "/users/42/"])
def test_client_side_route_gets_the_index_page(server: Server, route: str) -> None:
    r = _get(server, route, accept=BROWSER)
    assert r.status_code == 200
    assert r.content == (VITE_DIST / "index.html").read_bytes()
    assert r.headers["cache-control"] == "no-cache"
    again = _get(server, route, accept=BROWSER, **{"if-none-match": r.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/assets/nope-ABCDEFGH.js", "/favicon.ico", "/assets/x.css"])
def test_missing_asset_is_a_404_never_html(server: Server, path: str) -> None:
    r = _get(server, path, accept=BROWSER)
    assert r.status_code == 404
    assert b'<div id="app">' not in r.content


@pytest.mark.parametrize("path", ["/assets/nope-ABCDEFGH.js", "/assets/x.css"])
def test_missing_asset_is_never_cached(server: Server, path: str) -> None:
    # In a rolling deploy an old replica misses the new release's assets: the
    # app answers the 404, and no cache in front may keep it.
    assert _get(server, path).headers["cache-control"] == "no-store"


def test_fetch_of_an_unknown_route_is_a_404(server: Server) -> None:
    assert _get(server, "/some/route", accept="*/*").status_code == 404


@pytest.mark.parametrize("accept", [BROWSER, "application/json"])
def test_api_route_beside_the_spa_answers(server: Server, accept: str) -> None:
    r = _get(server, "/api/items", accept=accept)
    assert r.status_code == 200
    assert r.json() == [1, 2, 3]


def test_api_404_stays_the_apps_own(server: Server) -> None:
    r = _get(server, "/api/items/999", accept="application/json")
    assert r.status_code == 404
    assert b'<div id="app">' not in r.content
    assert "cache-control" not in r.headers


@pytest.mark.parametrize(
    ("kind", "target"),
    [("uvicorn", "tests.bundlers.apps:fastapi_app"), ("gunicorn", "tests.bundlers.apps:flask_app")],
)
def test_webpack_build_is_served_immutable(kind: str, target: str) -> None:
    env = {"STATICSERVE_TEST_DIST": str(WEBPACK_DIST)}
    with running_server(kind, target, env=env) as s:
        for name in (
            "main.111bf90bdf23d77869c9.js",
            "chart.37593ba1.js",
            "4fb4b181516f707b1659.png",
        ):
            assert _get(s, "/" + name).headers["cache-control"] == IMMUTABLE
        assert _get(s, "/").headers["cache-control"] == "no-cache"
        assert _get(s, "/manifest.json").headers["cache-control"] == "public, max-age=60"
        assert _get(s, "/dashboard", accept=BROWSER).headers["cache-control"] == "no-cache"
