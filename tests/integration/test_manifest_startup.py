"""Real servers on a root built by ``staticserve build``: indexed from the manifest.

The index never walks such a root; every file is checked on disk when it is
served. These tests change the root after the build (and after the server
started) and check every answer over a socket: a miss for a deleted file, the
new bytes with their own Content-Length for a changed one, never a compressed
sibling made from the old bytes, never a 304 for an ETag of the old bytes.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from staticserve.cli import main as cli_main
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(120)

TARGETS = {
    "uvicorn": "tests.integration.apps:asgi_app",
    "gunicorn": "tests.integration.apps:wsgi_app",
}
BROWSER = {"accept-encoding": "br, gzip, zstd"}
TEXT = b"body { color: #123456; margin: 0 auto; padding: 1rem }\n" * 40


def build(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for name in (
        "deleted.css",
        "grown.css",
        "same-size.css",
        "kept.css",
        "later.css",
        "doomed.css",
    ):
        path = src / "css" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode() + b"\n" + TEXT)
    out = tmp_path / "root"
    assert cli_main(["build", str(src), "--out", str(out), "--no-hash", "--quiet"]) == 0
    files = json.loads((out / "staticfiles.json").read_bytes())["files"]
    assert files["css/grown.css"]["encodings"].keys() >= {"gzip"}
    return out


@pytest.fixture(scope="module", params=sorted(TARGETS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    root = build(tmp_path_factory.mktemp(request.param))
    env = {
        "STATICSERVE_TEST_ROOT": str(root),
        "STATICSERVE_TEST_OPTIONS": json.dumps({"recheck_interval": 0}),
    }
    with running_server(request.param, TARGETS[request.param], env=env) as server:
        yield server, root
    # Checked once every test has used the server (at teardown, so in any order).
    for marker in ("Traceback", "ERROR"):
        assert marker not in server.log(), server.log()


def get(server: Server, url: str, **headers: str) -> httpx.Response:
    return httpx.get(server.url + url, headers=headers, timeout=15)


def is_a_miss(response: httpx.Response) -> bool:
    """No file answered: the request went on to the wrapped app (tests/integration/apps.py)."""
    return response.content.startswith(b"app: GET ")


def later_than_the_build(path: Path, root: Path) -> None:
    """Give ``path`` an mtime after the manifest's, as any edit after a build has."""
    written = (root / "staticfiles.json").stat().st_mtime_ns
    os.utime(path, ns=(written + 10**9, written + 10**9))


def test_the_server_serves_a_manifest_root_compressed(served: tuple[Server, Path]) -> None:
    server, root = served
    response = httpx.get(
        server.url + "/static/css/kept.css", headers={"accept-encoding": "gzip"}, timeout=15
    )
    assert response.status_code == 200 and response.headers["content-encoding"] == "gzip"
    assert response.content == (root / "css/kept.css").read_bytes()


def test_a_file_deleted_after_the_build_is_a_miss(served: tuple[Server, Path]) -> None:
    server, root = served
    (root / "css/deleted.css").unlink()
    assert is_a_miss(get(server, "/static/css/deleted.css", **BROWSER))


def test_a_file_grown_after_the_build_is_sent_new_with_its_length(
    served: tuple[Server, Path],
) -> None:
    server, root = served
    new = b"/* grown */\n" + TEXT * 3
    path = root / "css/grown.css"
    path.write_bytes(new)
    later_than_the_build(path, root)
    for headers in (BROWSER, {"accept-encoding": "identity"}):
        with httpx.stream("GET", server.url + "/static/css/grown.css", headers=headers) as r:
            raw = r.read()
            assert r.status_code == 200 and "content-encoding" not in r.headers
            assert int(r.headers["content-length"]) == len(raw) == len(new)
            assert raw == new


def test_a_file_replaced_with_the_same_size_is_sent_new_and_old_etags_miss(
    served: tuple[Server, Path],
) -> None:
    server, root = served
    path = root / "css/same-size.css"
    old = path.read_bytes()
    before = get(server, "/static/css/same-size.css", **BROWSER)  # built from the manifest
    new = old.replace(b"#123456", b"#abcdef")
    assert len(new) == len(old) and new != old
    path.write_bytes(new)
    later_than_the_build(path, root)
    after = get(server, "/static/css/same-size.css", **BROWSER)
    assert after.status_code == 200 and after.content == new
    assert "content-encoding" not in after.headers  # the siblings are of the old bytes
    assert after.headers["etag"] != before.headers["etag"]
    old_tag = before.headers["etag"]
    revalidated = get(server, "/static/css/same-size.css", **{**BROWSER, "if-none-match": old_tag})
    assert revalidated.status_code == 200 and revalidated.content == new


def test_a_sibling_replaced_after_the_build_is_not_sent(served: tuple[Server, Path]) -> None:
    server, root = served
    sibling = root / "css/later.css.gz"
    sibling.write_bytes(gzip.compress(b"wrong bytes"))
    later_than_the_build(sibling, root)
    response = get(server, "/static/css/later.css", **{"accept-encoding": "gzip"})
    assert response.status_code == 200
    assert response.content == (root / "css/later.css").read_bytes()


def test_a_file_deleted_after_its_first_request_becomes_a_miss(
    served: tuple[Server, Path],
) -> None:
    server, root = served
    assert not is_a_miss(get(server, "/static/css/doomed.css", **BROWSER))
    (root / "css/doomed.css").unlink()
    deadline = time.monotonic() + 30  # hang guard: the change is seen within recheck_interval
    missed = False
    while not missed and time.monotonic() < deadline:
        missed = is_a_miss(get(server, "/static/css/doomed.css", **BROWSER))
    assert missed
