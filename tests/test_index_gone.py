"""A file found missing on disk stays known: a miss while it is gone, served once it is back.

A deploy that copies a new tree over the old one (rsync, ``cp -r``) or a short
NFS outage makes a file vanish for a moment. The index keeps its URL and looks
for the file again at most once per ``recheck_interval``; in between, a
request for it is a plain miss that touches no disk.
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from staticserve import StaticServeWSGI
from staticserve.config import Config
from staticserve.index import StaticIndex
from staticserve.pipeline.manifest import write_manifest
from staticserve.resource import Resource, content_etag
from staticserve.service import StaticFiles

# Every test runs on the C fast path and on the pure-Python path.
pytestmark = pytest.mark.usefixtures("both_paths")

URL = "/static/css/site.css"
OLD = b"body { color: red }\n" * 10
NEW = b"body { color: blue; margin: 0 }\n" * 12


class Clock:
    """time.monotonic for staticserve's modules, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    for module in ("staticserve.index", "staticserve.service", "staticserve.resource"):
        monkeypatch.setattr(f"{module}.monotonic", fake)
    return fake


class StatCounter:
    """Counts os.stat / os.lstat calls on one path."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.calls = 0


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[StatCounter]:
    counter = StatCounter(tmp_path / "css" / "site.css")
    for name in ("stat", "lstat"):
        real = getattr(os, name)

        def counted(path: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if isinstance(path, str) and path == counter.path:
                counter.calls += 1
            return _real(path, *args, **kwargs)

        monkeypatch.setattr(os, name, counted)
    yield counter


def write(root: Path, data: bytes) -> Path:
    path = root / "css" / "site.css"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def app_of(root: Path, **options: Any) -> StaticServeWSGI:
    return StaticServeWSGI(None, root=root, prefix="/static/", **options)


def get(app: StaticServeWSGI, path: str = URL, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (lower-case names) and body of a WSGI GET."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": ""}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    answer: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc: Any = None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = {k.lower(): v for k, v in response_headers}

    body = b"".join(app(environ, start_response))
    return answer["status"], answer["headers"], body


def test_a_deleted_file_is_a_404_marked_not_to_be_stored(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, recheck_interval=0)
    assert get(app)[0] == 200
    path.unlink()
    status, headers, _ = get(app)
    assert status == 404 and headers["cache-control"] == "no-store"


def test_a_restored_file_is_served_with_its_new_bytes_length_and_etag(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, recheck_interval=0)
    _, before, _ = get(app)
    path.unlink()
    assert get(app)[0] == 404
    write(tmp_path, NEW)
    status, headers, body = get(app)
    assert status == 200 and body == NEW
    assert headers["content-length"] == str(len(NEW))
    assert headers["etag"] == content_etag(str(path)) != before["etag"]


def test_a_file_restored_with_the_same_bytes_is_served_again(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, recheck_interval=0)
    _, before, _ = get(app)
    path.unlink()
    assert get(app)[0] == 404
    write(tmp_path, OLD)
    status, headers, body = get(app)
    assert status == 200 and body == OLD and headers["etag"] == before["etag"]


def test_a_restored_file_is_served_after_recheck_interval_not_before(
    tmp_path: Path, clock: Clock
) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, recheck_interval=5)
    assert get(app)[0] == 200
    path.unlink()
    clock.now += 5  # the served file's re-check is due: it finds the file gone
    assert get(app)[0] == 404
    write(tmp_path, NEW)
    clock.now += 4.9
    assert get(app)[0] == 404  # inside the gone window: not looked for
    clock.now += 0.1
    status, _, body = get(app)
    assert status == 200 and body == NEW


def test_a_missing_file_requested_1000_times_within_one_interval_is_looked_for_once(
    tmp_path: Path, stats: StatCounter
) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, recheck_interval=3600)
    path.unlink()  # indexed, gone before its first request
    answers = {get(app)[0] for _ in range(500)}
    # With a Range header: the general path, not the adapters' fast path.
    answers |= {get(app, range="bytes=0-9")[0] for _ in range(500)}
    assert answers == {404}
    assert stats.calls == 1


def test_a_missing_file_is_looked_for_once_per_interval(
    tmp_path: Path, clock: Clock, stats: StatCounter
) -> None:
    path = write(tmp_path, OLD)
    files = StaticFiles(tmp_path, "/static/", recheck_interval=2)
    path.unlink()
    for step in range(3):
        before = stats.calls
        assert all(files.index.lookup(URL) is None for _ in range(100))
        assert stats.calls == before + 1, f"interval {step}"
        clock.now += 2


def test_a_gone_file_is_a_miss_on_the_fast_path(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    files = StaticFiles(tmp_path, "/static/", recheck_interval=3600)
    path.unlink()
    assert files.find(URL) is False  # not looked for yet
    assert files.plan(URL, "GET", {}) is None
    # Known to be gone: answered without the general path.
    assert files.find(URL) is None


def test_a_gone_file_is_looked_for_on_the_general_path_once_its_window_ends(
    tmp_path: Path, clock: Clock
) -> None:
    path = write(tmp_path, OLD)
    files = StaticFiles(tmp_path, "/static/", recheck_interval=2)
    path.unlink()
    assert files.plan(URL, "GET", {}) is None
    clock.now += 2
    assert files.find(URL) is False


def test_unknown_urls_are_not_remembered_as_gone(tmp_path: Path) -> None:
    write(tmp_path, OLD)
    files = StaticFiles(tmp_path, "/static/", recheck_interval=3600)
    for i in range(1000):
        assert files.plan(f"/static/css/nothing-{i}.css", "GET", {}) is None
    # The gone table only ever holds indexed URLs: the index's size bounds it.
    assert files.index._gone == {}


def test_refresh_of_a_gone_file_waits_for_the_interval(
    tmp_path: Path, clock: Clock, stats: StatCounter
) -> None:
    path = write(tmp_path, OLD)
    index = StaticIndex(Config(recheck_interval=2))
    index.add_root(tmp_path, "/static/")
    assert isinstance(index.lookup(URL), Resource)
    path.unlink()
    assert index.refresh(URL) is None
    before = stats.calls
    assert index.refresh(URL) is None and stats.calls == before
    write(tmp_path, NEW)
    clock.now += 2
    refreshed = index.refresh(URL)
    assert isinstance(refreshed, Resource) and refreshed.identity.size == len(NEW)


def test_a_gone_url_stays_listed(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    index = StaticIndex(Config())
    index.add_root(tmp_path, "/static/")
    path.unlink()
    assert index.lookup(URL) is None
    assert index.urls() == [URL] and len(index) == 1


def test_a_file_listed_in_a_build_manifest_comes_back(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    path.with_name("site.css.gz").write_bytes(gzip.compress(OLD, mtime=0))
    write_manifest(tmp_path, {})
    app = app_of(tmp_path, recheck_interval=0)
    assert app.files.index.roots[0].listed  # indexed from the manifest, no walk
    _, before, _ = get(app, accept_encoding="gzip")
    assert before["content-encoding"] == "gzip"
    path.unlink()
    status, headers, _ = get(app)
    assert status == 404 and headers["cache-control"] == "no-store"
    write(tmp_path, NEW)
    status, headers, body = get(app, accept_encoding="gzip")
    # The new bytes, not the sibling the build made of the old ones.
    assert status == 200 and body == NEW and "content-encoding" not in headers
    assert headers["content-length"] == str(len(NEW))
    assert headers["etag"] == content_etag(str(path)) != before["etag"]


def test_a_manifest_file_missing_at_its_first_request_is_served_once_it_appears(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, OLD)
    write_manifest(tmp_path, {})
    path.unlink()
    app = app_of(tmp_path, recheck_interval=0)
    assert get(app)[0] == 404
    write(tmp_path, OLD)
    status, _, body = get(app)
    assert status == 200 and body == OLD


def test_autorefresh_serves_a_restored_file_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, autorefresh=True)
    assert get(app)[0] == 200
    path.unlink()
    assert get(app)[0] == 404
    write(tmp_path, NEW)
    assert get(app)[2] == NEW


def test_of_concurrent_requests_when_a_look_is_due_one_makes_it(
    tmp_path: Path, clock: Clock, stats: StatCounter
) -> None:
    path = write(tmp_path, OLD)
    files = StaticFiles(tmp_path, "/static/", recheck_interval=2)
    path.unlink()
    assert files.index.lookup(URL) is None
    clock.now += 2
    before = stats.calls
    start = threading.Barrier(16)

    def request() -> object:
        start.wait()
        return files.plan(URL, "GET", {})

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: request(), range(16)))
    assert answers == [None] * 16
    assert stats.calls == before + 1


def test_a_file_going_and_coming_back_is_logged_once_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, OLD)
    app = app_of(tmp_path, recheck_interval=0)
    assert get(app)[0] == 200
    path.unlink()
    with caplog.at_level(logging.INFO, logger="staticserve"):
        assert {get(app)[0] for _ in range(5)} == {404}
        write(tmp_path, NEW)
        assert {get(app)[0] for _ in range(5)} == {200}
    messages = [r.getMessage() for r in caplog.records if r.name == "staticserve"]
    assert len(messages) == 2, messages
    assert "missing" in messages[0] and str(path) in messages[0] and URL in messages[0]
    assert "back" in messages[1] and URL in messages[1]
