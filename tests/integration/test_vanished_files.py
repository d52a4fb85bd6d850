"""Real servers: a served file that vanishes is a 404, and is served again once it is back.

A deploy copying over the old tree (rsync, ``cp -r``) or a network filesystem
outage removes a file for a moment; no worker may keep answering 404 for it
after it is back. Each test starts its own server (uvicorn for ASGI, gunicorn
for WSGI) on a root that is walked at start-up or indexed from the manifest
``staticserve build`` wrote, and talks to it over sockets.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from staticserve.cli import main as cli_main
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(120)

TARGETS = {
    "uvicorn": "tests.integration.vanishing_apps:asgi_app",
    "gunicorn": "tests.integration.vanishing_apps:wsgi_app",
}
REL = "css/site.css"
URL = "/static/" + REL
OLD = b"body { color: #123456; margin: 0 auto }\n" * 40
NEW = b"/* the next release */\nbody { color: #abcdef }\n" * 30


def make_root(tmp_path: Path, kind: str) -> Path:
    """A root with ``css/site.css``: plain (walked) or built (indexed from its manifest)."""
    src = tmp_path / "src"
    (src / "css").mkdir(parents=True)
    (src / REL).write_bytes(OLD)
    if kind == "walked":
        return src
    out = tmp_path / "built"
    assert cli_main(["build", str(src), "--out", str(out), "--no-hash", "--quiet"]) == 0
    assert REL in json.loads((out / "staticfiles.json").read_bytes())["files"]
    return out


@contextmanager
def serving(server_kind: str, root: Path, **options: object) -> Iterator[Server]:
    env = {
        "STATICSERVE_TEST_ROOT": str(root),
        "STATICSERVE_TEST_OPTIONS": json.dumps(options),
        "STATICSERVE_TEST_WATCHED": str(root / REL),
    }
    with running_server(server_kind, TARGETS[server_kind], env=env) as server:
        yield server
    for marker in ("Traceback", "ERROR"):
        assert marker not in server.log(), server.log()


def poll(client: httpx.Client, done: Callable[[httpx.Response], bool]) -> httpx.Response:
    """GET ``URL`` until ``done`` holds (the deadline is only a hang guard)."""
    deadline = time.monotonic() + 30  # a hang guard, never what a test checks
    while True:
        response = client.get(URL, headers={"accept-encoding": "gzip, br"})
        # Past the hang guard the last answer goes back, and the test's own
        # assertion (on the answer, not on the time) says what was wrong.
        if done(response) or time.monotonic() > deadline:
            return response
        time.sleep(0.02)


@pytest.mark.parametrize("root_kind", ["walked", "built"])
@pytest.mark.parametrize("server_kind", sorted(TARGETS))
def test_a_deleted_file_is_a_404_then_served_with_its_new_bytes_once_put_back(
    tmp_path: Path, server_kind: str, root_kind: str
) -> None:
    root = make_root(tmp_path, root_kind)
    path = root / REL
    with (
        serving(server_kind, root, recheck_interval=0.1) as server,
        httpx.Client(base_url=server.url, timeout=15) as client,
    ):
        first = client.get(URL)
        assert first.status_code == 200 and first.content == OLD

        path.unlink()
        gone = poll(client, lambda r: r.status_code != 200)
        assert gone.status_code == 404
        assert gone.headers["cache-control"] == "no-store"

        path.write_bytes(NEW)
        back = poll(client, lambda r: r.status_code != 404)
        assert back.status_code == 200 and back.content == NEW
        assert back.headers["content-length"] == str(len(NEW))
        # Uncompressed: a built root's .gz/.br siblings were made from the old bytes.
        assert "content-encoding" not in back.headers
        assert back.headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize("server_kind", sorted(TARGETS))
def test_a_flood_of_requests_for_a_vanished_file_is_not_a_flood_of_stats(
    tmp_path: Path, server_kind: str
) -> None:
    root = make_root(tmp_path, "built")
    with (
        serving(server_kind, root, recheck_interval=3600) as server,
        httpx.Client(base_url=server.url, timeout=15) as client,
    ):
        (root / REL).unlink()
        before = int(client.get("/count").text)
        assert client.get(URL).status_code == 404  # its first request looks for it
        looked = int(client.get("/count").text)
        statuses = {client.get(URL).status_code for _ in range(300)}
        # With a Range header: the general path, not the adapters' fast path.
        ranged = {"range": "bytes=0-9"}
        statuses |= {client.get(URL, headers=ranged).status_code for _ in range(100)}
        after = int(client.get("/count").text)
    assert looked > before  # the counter sees the look
    assert statuses == {404}
    assert after == looked  # and nothing after it within the interval
