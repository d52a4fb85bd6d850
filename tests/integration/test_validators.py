"""Validators across a restart: a same-size edit under a normalised mtime is never a 304.

Reproducible builds normalise mtimes (Nix sets every one to 1,
``SOURCE_DATE_EPOCH`` builds often to 0), so an mtime+size validator would
survive a same-size edit. Served without a manifest by a new process (a
deploy), the edited file must get a new ETag, and a client revalidating with
the old ETag or any date must get the new bytes.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.support.servers import running_server

TARGETS = {
    "gunicorn": "tests.integration.apps:wsgi_app",
    "uvicorn": "tests.integration.apps:asgi_app",
}


MTIMES = {"nix.css": 1, "epoch.css": 0}  # file -> its normalised mtime


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_same_size_edit_with_normalised_mtime_gets_new_etag_and_no_304(
    tmp_path: Path, kind: str
) -> None:
    def write(content: bytes) -> None:
        for name, mtime in MTIMES.items():
            (tmp_path / name).write_bytes(content)
            os.utime(tmp_path / name, (mtime, mtime))

    env = {"STATICSERVE_TEST_ROOT": str(tmp_path)}
    write(b"body { color: red }\n")
    with running_server(kind, TARGETS[kind], env) as server:
        first = {name: httpx.get(f"{server.url}/static/{name}") for name in MTIMES}
    for response in first.values():
        assert response.status_code == 200 and "last-modified" not in response.headers

    write(b"body { color: tan }\n")  # same size, same (normalised) mtimes
    with running_server(kind, TARGETS[kind], env) as server:
        for name in MTIMES:
            old_etag = first[name].headers["etag"]
            url = f"{server.url}/static/{name}"
            revalidated = httpx.get(url, headers={"if-none-match": old_etag})
            by_date = httpx.get(url, headers={"if-modified-since": "Thu, 01 Jan 1970 00:00:01 GMT"})
            assert revalidated.status_code == 200, name
            assert revalidated.content == b"body { color: tan }\n", name
            assert revalidated.headers["etag"] != old_etag, name
            assert by_date.status_code == 200 and by_date.content == b"body { color: tan }\n"
