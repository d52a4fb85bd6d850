"""A served file edited with its size and mtime kept is served anew by the same process.

The re-check compares inode and ctime as well as size and mtime: an in-place
edit that puts the mtime back (``cp -p``, ``rsync -t``, ``touch -d``) moves
the ctime, and a replace-by-rename gives another inode. Real servers, real
files, one worker each, so the process that served the old bytes is the one
asked again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import pseudo_random_bytes
from tests.support.disk_edits import edit_keeping_size_and_mtime, replace_keeping_size_and_mtime
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(60)

TARGETS = {
    "uvicorn": "tests.integration.apps:asgi_app",
    "gunicorn": "tests.integration.apps:wsgi_app",
}
SMALL = b"body { color: red }\n"  # held in memory
STREAMED = 512 * 1024  # above memory_file_max: read from disk per request
EDITS: dict[str, Callable[[Path, bytes], None]] = {
    "in-place": edit_keeping_size_and_mtime,
    "rename": replace_keeping_size_and_mtime,
}


@pytest.fixture(scope="module", params=list(TARGETS))
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Path]]:
    root = tmp_path_factory.mktemp(request.param)
    # recheck_interval=0: every request re-checks, so the edit is due at once.
    env = {
        "STATICSERVE_TEST_ROOT": str(root),
        "STATICSERVE_TEST_OPTIONS": json.dumps({"recheck_interval": 0}),
    }
    for edit in EDITS:
        (root / f"{edit}.css").write_bytes(SMALL)
        (root / f"{edit}.bin").write_bytes(pseudo_random_bytes(STREAMED, seed=11))
    with running_server(request.param, TARGETS[request.param], env=env) as running:
        yield running, root


@pytest.mark.parametrize("edit", EDITS)
@pytest.mark.parametrize(("name", "new"), [
    ("css", SMALL.replace(b"red", b"tan")),
    ("bin", pseudo_random_bytes(STREAMED, seed=12)),
])  # fmt: skip
def test_a_same_size_edit_with_the_mtime_put_back_is_served_with_a_new_etag(
    server: tuple[Server, Path], edit: str, name: str, new: bytes
) -> None:
    running, root = server
    url = f"{running.url}/static/{edit}.{name}"
    path = root / f"{edit}.{name}"
    old = path.read_bytes()
    with httpx.Client(timeout=15, headers={"accept-encoding": "identity"}) as client:
        before = client.get(url)
        assert before.status_code == 200 and before.content == old
        EDITS[edit](path, new)
        after = client.get(url)
        assert after.status_code == 200 and after.content == new
        assert after.headers["etag"] != before.headers["etag"]
        assert int(after.headers["content-length"]) == len(new)
        # A client holding the old tag gets the new bytes, not a 304.
        revalidated = client.get(url, headers={"if-none-match": before.headers["etag"]})
        assert revalidated.status_code == 200 and revalidated.content == new
