"""staticserve under Starlette's GZipMiddleware and CORSMiddleware, on real
servers: what they change in one response never reaches the next.

Each server runs ``tests.integration.starlette_apps:app``; the requests
alternate between ones the outer middleware rewrites (gzip-compressed by
Starlette, an allowed Origin echoed) and ones it leaves alone, and every
answer is checked whole: status, Content-Encoding, Content-Length, Vary,
Access-Control-Allow-Origin and the bytes.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import StaticTree, make_static_tree
from tests.integration.starlette_apps import ORIGINS
from tests.support.servers import running_server

pytestmark = pytest.mark.timeout(60)

# Compressible, above GZipMiddleware's minimum_size, and no .gz/.br sibling:
# Starlette compresses it when the client accepts gzip.
REPORT = b'{"rows": [' + b",".join(b'{"n": %d}' % i for i in range(400)) + b"]}"


@pytest.fixture(scope="module", params=["uvicorn", "granian"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[httpx.Client, StaticTree]]:
    tree = make_static_tree(tmp_path_factory.mktemp("outer"), big_size=64 * 1024)
    tree.write("data/report.json", REPORT)
    env = {"STATICSERVE_TEST_ROOT": str(tree.root)}
    with running_server(request.param, "tests.integration.starlette_apps:app", env=env) as srv:
        with httpx.Client(base_url=srv.url, timeout=15) as client:
            yield client, tree
        log = srv.log()
        assert "Traceback" not in log, log


@dataclass
class Answer:
    status: int
    headers: httpx.Headers
    body: bytes  # as on the wire: httpx's own decoding of Content-Encoding undone


def get(client: httpx.Client, path: str, **headers: str) -> Answer:
    with client.stream("GET", path, headers=headers) as response:
        body = b"".join(response.iter_raw())
    return Answer(response.status_code, response.headers, body)


def get_identity(client: httpx.Client, path: str, **headers: str) -> Answer:
    return get(client, path, **{"accept-encoding": "identity"}, **headers)


def assert_identity(answer: Answer, data: bytes) -> None:
    assert answer.status == 200
    assert "content-encoding" not in answer.headers
    assert answer.headers["content-length"] == str(len(data))
    assert answer.body == data


def test_gzip_by_the_outer_middleware_does_not_reach_an_identity_answer(
    server: tuple[httpx.Client, StaticTree],
) -> None:
    client, _ = server
    for _ in range(3):
        compressed = get(client, "/static/data/report.json", **{"accept-encoding": "gzip"})
        assert compressed.status == 200
        assert compressed.headers["content-encoding"] == "gzip"
        assert gzip.decompress(compressed.body) == REPORT
        assert_identity(get_identity(client, "/static/data/report.json"), REPORT)


def test_an_echoed_origin_does_not_reach_the_next_answer(
    server: tuple[httpx.Client, StaticTree],
) -> None:
    client, tree = server
    css = tree.read("css/site.css")
    plain = get_identity(client, "/static/css/site.css")
    assert_identity(plain, css)
    for origin in [*ORIGINS, *ORIGINS]:
        cors = get_identity(client, "/static/css/site.css", origin=origin)
        assert_identity(cors, css)
        assert cors.headers["access-control-allow-origin"] == origin
        again = get_identity(client, "/static/css/site.css")
        assert_identity(again, css)
        assert again.headers.get("access-control-allow-origin") == plain.headers.get(
            "access-control-allow-origin"
        )
        assert again.headers["vary"] == plain.headers["vary"]


def test_a_precompressed_answer_passes_the_outer_gzip_untouched(
    server: tuple[httpx.Client, StaticTree],
) -> None:
    client, tree = server
    for _ in range(3):
        br = get(client, "/static/css/site.css", **{"accept-encoding": "br"})
        assert br.headers["content-encoding"] == "br"
        assert br.body == tree.read("css/site.css.br")
        assert br.headers["content-length"] == str(len(br.body))
        assert_identity(get_identity(client, "/static/css/site.css"), tree.read("css/site.css"))


def test_a_miss_under_the_prefix_reaches_starlette_marked_no_store(
    server: tuple[httpx.Client, StaticTree],
) -> None:
    client, _ = server
    miss = get(client, "/static/nope.css", **{"accept-encoding": "gzip"})
    assert miss.status == 404
    assert miss.headers["cache-control"] == "no-store"
    page = get(client, "/app/page", **{"accept-encoding": "gzip"})
    assert gzip.decompress(page.body) == b"app page " * 50
