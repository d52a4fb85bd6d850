"""A file's first load (a content hash of hundreds of MB) does not stall the event loop.

Without a build manifest, a file's ETag is the SHA-384 of its bytes,
computed on its first request in a worker. The ASGI adapter does that load in
a thread, so other connections of the worker are answered meanwhile, and
concurrent first requests for the same file share one load; Django's
middleware under ASGI loads in a thread too. Under a threaded WSGI server,
threads asking for a file another thread is loading wait for that load.

Real uvicorn, a real 200 MB (sparse) file, raw sockets. The app holds the big
file's load open after its hash until the test releases it (see
``gated_app``), so the test checks an order of events, never a duration.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(120)

BIG = 200 * 1024 * 1024
SMALL = b"body { color: red }\n"


# The ASGI adapter, Django's middleware on Django's ASGI handler, and the WSGI
# adapter on gunicorn's threads (where each request has a thread of its own).
@pytest.fixture(
    params=[
        ("uvicorn", "tests.hardening.gated_app:app"),
        ("uvicorn", "tests.hardening.gated_django:app"),
        ("gunicorn-gthread", "tests.hardening.gated_app:wsgi_app"),
    ],
    ids=["asgi", "django-asgi", "wsgi-threads"],
)
def gated(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    root, gate = tmp_path / "root", tmp_path / "gate"
    root.mkdir()
    gate.mkdir()
    with open(root / "big.bin", "wb") as f:
        f.truncate(BIG)  # sparse: no disk space, but read (and hashed) in full
    (root / "small.css").write_bytes(SMALL)
    env = {"GATED_ROOT": str(root), "GATED_DIR": str(gate)}
    kind, target = request.param
    with running_server(kind, target, env=env) as server:
        try:
            yield server, gate
        finally:
            (gate / "release").write_bytes(b"")  # never leave a load hanging


def send_get(server: Server, path: str) -> socket.socket:
    host, port = server.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n".encode())
    return sock


def wait_for(condition: object, what: str, timeout: float = 60) -> None:
    """Poll ``condition``; the deadline is a hang guard (the awaited event takes ms)."""
    deadline = time.monotonic() + timeout  # a hang guard, never what a test checks
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:  # the event never came: fail instead of hanging
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.01)


def received(sock: socket.socket) -> bytes:
    """What has arrived on ``sock`` so far (without waiting)."""
    sock.setblocking(False)
    try:
        return sock.recv(1 << 16)
    except BlockingIOError:
        return b""
    finally:
        sock.setblocking(True)


def read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(1 << 16)
        assert chunk, f"connection closed after {data!r}"
        data += chunk
    return data


def read_response(sock: socket.socket, length: int) -> bytes:
    data = read_head(sock)
    while len(data.partition(b"\r\n\r\n")[2]) < length:
        chunk = sock.recv(1 << 16)
        assert chunk, "connection closed mid-body"
        data += chunk
    return data


def big_load_started(server: Server, gate: Path) -> socket.socket:
    """A request for the big file, once its load is in progress (and held by the gate)."""
    sock = send_get(server, "/static/big.bin")
    wait_for(lambda: any(gate.glob("entered-*")), "the big file's load to start")
    return sock


def test_small_file_is_answered_while_a_big_files_first_load_is_in_progress(
    gated: tuple[Server, Path],
) -> None:
    server, gate = gated
    big = big_load_started(server, gate)
    small = send_get(server, "/static/small.css")
    # Inline, the load would hold the event loop until released: no answer.
    response = read_response(small, len(SMALL))
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(SMALL)
    assert received(big) == b"", "the big file was answered before its load was released"
    (gate / "release").write_bytes(b"")
    assert read_head(big).startswith(b"HTTP/1.1 200")
    big.close()
    small.close()


def test_concurrent_first_requests_for_one_big_file_share_one_load(
    gated: tuple[Server, Path],
) -> None:
    server, gate = gated
    first = big_load_started(server, gate)
    second = send_get(server, "/static/big.bin")
    # A small request after the second: once it is answered, the second
    # request has been read and is waiting for the load.
    small = send_get(server, "/static/small.css")
    assert read_response(small, len(SMALL)).endswith(SMALL)
    (gate / "release").write_bytes(b"")
    heads = [read_head(first), read_head(second)]
    assert all(h.startswith(b"HTTP/1.1 200") for h in heads)
    etags = {line for h in heads for line in h.split(b"\r\n") if line.lower().startswith(b"etag")}
    assert len(etags) == 1
    assert sorted(p.name for p in gate.glob("entered-*")) == ["entered-1"]
    for sock in (first, second, small):
        sock.close()
