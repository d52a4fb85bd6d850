"""Faults: stalled and vanishing clients, files that change under the server.

Servers (uvicorn, gunicorn gthread, granian ASGI and WSGI) run standalone
(misses are 404) with ``memory_file_max=0``, so every
file is streamed from disk and re-checked there (memory-held files keep their
indexed bytes until restart, which is also a correct answer: the full old
content). File descriptors of the worker are counted in /proc before and after.
Each test leaves its files changed, so each has files of its own, and checks
the server's log itself: the tests pass in any order.

Permissions: the tests run as root, where ``chmod 000`` blocks nothing, so the
permission cases run in a subprocess that indexes as root, then drops to
``nobody`` with ``os.setuid`` before indexing or serving what it can no longer
read (see ``PERMISSION_SCRIPT``).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import brotli
import httpx
import pytest

from tests.hardening.conftest import CSS, HostileTree, make_hostile_tree
from tests.support.servers import REPO, Server, running_server

pytestmark = pytest.mark.timeout(90)

MB = 1024 * 1024
HUGE = random.Random(3).randbytes(16 * MB)  # bigger than loopback socket buffers
FAULT_FILES = ["stall.bin", "replace.bin", "delete.bin", "truncate.bin"]


def worker_pid(server: Server) -> int:
    pid = server.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else pid


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def settle_fds(pid: int, baseline: int, timeout: float = 30) -> int:
    """The worker's fd count once it is back to ``baseline`` (or the deadline passed)."""
    deadline = time.monotonic() + timeout  # a hang guard, not a measurement
    count = fd_count(pid)
    while count > baseline and time.monotonic() < deadline:
        time.sleep(0.1)
        count = fd_count(pid)
    return count


SERVERS = [
    ("uvicorn", "tests.hardening.apps:asgi_standalone"),
    ("gunicorn-gthread", "tests.hardening.apps:wsgi_standalone"),
    ("granian", "tests.hardening.apps:asgi_standalone"),
    ("granian-wsgi", "tests.hardening.apps:wsgi_standalone"),
]
# Served only by the test that moves the root away: URLs found gone are
# dropped from the index until restart, so no other test may use them.
ROOT_GONE_FILES = ["rootgone/site.css", "rootgone/app.js", "rootgone/big.bin"]
# Asked for only once that root is back (so never found gone): served again.
ROOT_BACK_FILE = "rootgone/back.css"


@pytest.fixture(scope="module", params=SERVERS, ids=[kind for kind, _ in SERVERS])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, HostileTree]]:
    kind, target = request.param
    tree = make_hostile_tree(tmp_path_factory.mktemp(f"faults-{kind}"))
    for name in FAULT_FILES:
        (tree.root / name).write_bytes(HUGE)
    for name in ("gone.css", "shrunk.css", "swapped.css", "head.css"):
        (tree.root / name).write_bytes(CSS)
    (tree.root / "rootgone").mkdir()
    for name in [*ROOT_GONE_FILES, ROOT_BACK_FILE]:
        (tree.root / name).write_bytes(HUGE if name.endswith(".bin") else CSS)
    (tree.root / "rootgone/site.css.br").write_bytes(brotli.compress(CSS))
    env = {
        "HARDEN_ROOT": str(tree.root),
        "HARDEN_OPTIONS": json.dumps({"memory_file_max": 0, "recheck_interval": 0}),
    }
    with running_server(kind, target, env=env) as server:
        yield server, tree


def unexpected_tracebacks(log: str) -> list[str]:
    """The exception line of each traceback in ``log`` but the one expected fault.

    A file truncated in place while it streams must cut the response short;
    WSGI's only way to do that is to raise from the body iterator (PEP 3333),
    and a WSGI server that reads the body itself (granian) logs the raise.
    That ``FileChanged`` for truncate.bin is the correct outcome, not a crash.
    """
    lines = log.splitlines()
    found = []
    for number, line in enumerate(lines):
        if "Traceback (most recent call last)" not in line:
            continue
        ending = next((x for x in lines[number + 1 :] if x and not x[0].isspace()), "")
        if not ("FileChanged" in ending and ending.endswith("truncate.bin")):
            found.append(ending or "(truncated traceback)")
    return found


def assert_clean_log(server: Server) -> None:
    """Checked at the end of each test (not in a last test: order must not matter)."""
    assert unexpected_tracebacks(server.log()) == [], server.log()


def port_of(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def open_request(server: Server, path: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port_of(server)), timeout=20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return sock


def read_response(sock: socket.socket, first: bytes = b"") -> tuple[dict[str, str], bytes]:
    data = bytearray(first)
    while chunk := sock.recv(1 << 20):
        data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    headers[":status"] = lines[0].split()[1]
    return headers, body


def test_stalled_slow_and_vanishing_clients_do_not_block_others_or_leak_fds(
    served: tuple[Server, HostileTree],
) -> None:
    server, _ = served
    pid = worker_pid(server)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/static/stall.bin").content == HUGE  # warm up
    baseline = fd_count(pid)
    never_read = [open_request(server, "/static/stall.bin") for _ in range(4)]
    vanishing = [open_request(server, "/static/stall.bin") for _ in range(4)]
    for sock in vanishing:  # read a little of the body, then hang up
        sock.recv(64 * 1024)
        sock.close()
    slow = open_request(server, "/static/stall.bin")
    stop = threading.Event()

    def read_slowly() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set() and slow.recv(16 * 1024):
                time.sleep(0.05)

    reader = threading.Thread(target=read_slowly)
    reader.start()
    try:
        # A hang guard, 1000x a request's time: were the stalled clients
        # blocking the server, these would wait until the test closes them.
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for _ in range(20):
                response = client.get("/static/css/site.css", headers={"accept-encoding": "br"})
                assert response.status_code == 200 and response.content == CSS
        during = fd_count(pid)
    finally:
        stop.set()
        for sock in [*never_read, slow]:
            sock.close()
        reader.join()
    after = settle_fds(pid, baseline)
    print(f"\n{server.kind} fds: before {baseline}, during {during}, after {after}")
    assert after <= baseline
    assert_clean_log(server)


def test_file_replaced_while_streaming_sends_the_full_old_content(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    sock = open_request(server, "/static/replace.bin")
    first = sock.recv(64 * 1024)
    new = tree.root / "replace.bin.new"
    new.write_bytes(b"new content\n")
    os.replace(new, tree.root / "replace.bin")
    headers, body = read_response(sock, first)
    sock.close()
    assert headers["content-length"] == str(len(HUGE))
    assert body == HUGE
    assert httpx.get(server.url + "/static/replace.bin").content == b"new content\n"
    assert_clean_log(server)


def test_file_deleted_while_streaming_sends_the_full_old_content(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    sock = open_request(server, "/static/delete.bin")
    first = sock.recv(64 * 1024)
    (tree.root / "delete.bin").unlink()
    headers, body = read_response(sock, first)
    sock.close()
    assert body == HUGE and headers["content-length"] == str(len(HUGE))
    assert httpx.get(server.url + "/static/delete.bin").status_code == 404
    assert_clean_log(server)


def test_file_truncated_while_streaming_is_cut_short_never_completed_wrong(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    sock = open_request(server, "/static/truncate.bin")
    first = sock.recv(64 * 1024)
    os.truncate(tree.root / "truncate.bin", 1000)
    headers, body = read_response(sock, first)
    sock.close()
    assert headers["content-length"] == str(len(HUGE))
    # Either the full old content, or the connection ends early, so the client
    # sees an incomplete response (fewer bytes than Content-Length) and keeps
    # nothing. Under gunicorn's sendfile the bytes already queued in the socket
    # share the file's page cache, so a truncation in place can zero them in
    # flight (a kernel property of zero-copy; deploy with os.replace instead):
    # only without sendfile (uvicorn, granian ASGI) are the bytes sent a prefix.
    assert body == HUGE or len(body) < len(HUGE)
    if server.kind in ("uvicorn", "granian"):
        assert HUGE.startswith(body)
    after = httpx.get(server.url + "/static/truncate.bin")
    assert after.content == HUGE[:1000]
    assert after.headers["content-length"] == "1000"
    assert_clean_log(server)


def test_file_deleted_between_index_and_request_is_404(served: tuple[Server, HostileTree]) -> None:
    server, tree = served
    (tree.root / "gone.css").unlink()
    assert httpx.get(server.url + "/static/gone.css").status_code == 404
    assert httpx.head(server.url + "/static/gone.css").status_code == 404
    assert_clean_log(server)


def test_file_truncated_between_index_and_request_is_sent_with_its_new_length(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    os.truncate(tree.root / "shrunk.css", 100)
    response = httpx.get(server.url + "/static/shrunk.css", headers={"accept-encoding": "identity"})
    assert response.content == CSS[:100]
    assert response.headers["content-length"] == "100"
    assert_clean_log(server)


def test_file_replaced_between_index_and_request_is_sent_new(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    new = tree.root / "swapped.new"
    new.write_bytes(b"swapped in\n")
    os.replace(new, tree.root / "swapped.css")
    assert httpx.get(server.url + "/static/swapped.css").content == b"swapped in\n"
    assert_clean_log(server)


def test_head_and_304_after_a_change_describe_the_new_file(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    old = httpx.get(server.url + "/static/head.css", headers={"accept-encoding": "identity"})
    (tree.root / "head.css").write_bytes(b"short\n")
    head = httpx.head(server.url + "/static/head.css", headers={"accept-encoding": "identity"})
    assert head.headers["content-length"] == "6"
    again = httpx.get(
        server.url + "/static/head.css",
        headers={"accept-encoding": "identity", "if-none-match": old.headers["etag"]},
    )
    assert again.status_code == 200 and again.content == b"short\n"
    assert_clean_log(server)


def test_root_that_disappears_gives_404_and_is_served_again_when_back(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    pid = worker_pid(server)
    moved = tree.base / "root-moved"
    tree.root.rename(moved)
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for rel in ROOT_GONE_FILES:
                for method in ("GET", "HEAD"):
                    r = client.request(method, "/static/" + rel)
                    assert r.status_code == 404, (rel, method, r.status_code)
    finally:
        # (URLs found gone are dropped from a production index until restart.)
        moved.rename(tree.root)
    back = httpx.get(server.url + "/static/" + ROOT_BACK_FILE, headers={"accept-encoding": "br"})
    assert back.status_code == 200 and back.content == CSS
    # The same worker answered throughout: none crashed and was replaced.
    assert server.proc.poll() is None and worker_pid(server) == pid
    assert_clean_log(server)


# -- autorefresh under concurrent load ----------------------------------------------


def test_autorefresh_under_concurrent_load_sends_only_whole_versions(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    versions = [f"version {i}\n".encode() * (1 + i * 37) for i in range(20)]
    (root / "live.txt").write_bytes(versions[0])
    env = {"HARDEN_ROOT": str(root), "HARDEN_OPTIONS": json.dumps({"autorefresh": True})}
    with running_server("uvicorn", "tests.hardening.apps:asgi_standalone", env=env) as server:
        stop = threading.Event()
        bad: list[str] = []
        seen: set[bytes] = set()
        created: list[str] = []
        reads = [0]

        def write() -> None:
            i = 0
            while not stop.is_set():
                i += 1
                tmp = root / "live.tmp"
                tmp.write_bytes(versions[i % len(versions)])
                os.replace(tmp, root / "live.txt")
                if i % 10 == 0:
                    (root / f"new-{i}.txt").write_bytes(b"new %d\n" % i)
                    created.append(f"new-{i}.txt")
                time.sleep(0.002)

        def read() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                while not stop.is_set():
                    r = client.get("/static/live.txt")
                    if r.status_code != 200 or r.content not in versions:
                        bad.append(f"{r.status_code} {len(r.content)}")
                    elif r.headers["content-length"] != str(len(r.content)):
                        bad.append("length")
                    seen.add(r.content)
                    reads[0] += 1  # (a lost update among readers only delays the stop)

        threads = [threading.Thread(target=write)] + [
            threading.Thread(target=read) for _ in range(6)
        ]
        for thread in threads:
            thread.start()
        # Run until the readers have made enough requests and seen the file
        # change several times (a condition, not a duration sized for a fast
        # machine); the deadline is only a hang guard.
        deadline = time.monotonic() + 60
        while (reads[0] < 600 or len(seen) <= 3) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for name in created[-5:]:
                assert client.get("/static/" + name).status_code == 200
        assert not bad, bad[:10]
        assert len(seen) > 3  # the readers really saw the file change
        assert "Traceback" not in server.log()


# -- permissions (as a non-root user) ---------------------------------------------------

PERMISSION_SCRIPT = r"""
import io, json, logging, os, sys
from staticserve import StaticServeWSGI
from staticserve.index import StaticIndex

root = sys.argv[1]
log = io.StringIO()
handler = logging.StreamHandler(log)
logging.getLogger("staticserve").addHandler(handler)
logging.getLogger("staticserve").setLevel(logging.INFO)

# Index as root (everything readable), then make files unreadable.
app = StaticServeWSGI(None, root=root, prefix="/static/", memory_file_max=0)
os.chmod(os.path.join(root, "later.txt"), 0)
os.chmod(os.path.join(root, "secret.txt"), 0)
os.chmod(os.path.join(root, "locked"), 0)
os.setgid(65534)
os.setuid(65534)  # nobody: from here on, permissions apply

def get(path):
    status = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": path},
                        lambda s, h, e=None: status.append(s)))
    return status[0], body.decode("latin-1")

served_after_chmod = get("/static/later.txt")
index = StaticIndex()
index.add_root(root, "/static/")
print(json.dumps({
    "served_after_chmod": served_after_chmod,
    "readable": get("/static/ok.txt"),
    "urls": index.urls(),
    "log": log.getvalue(),
}))
"""


def test_unreadable_files_and_dirs_are_skipped_or_404_never_a_crash() -> None:
    base = Path(tempfile.mkdtemp(prefix="staticserve-perm-"))
    try:
        base.chmod(0o755)
        root = base / "root"
        (root / "locked").mkdir(parents=True)
        (root / "locked" / "inner.txt").write_bytes(b"inner\n")
        (root / "ok.txt").write_bytes(b"ok\n")
        (root / "later.txt").write_bytes(b"later\n")
        (root / "secret.txt").write_bytes(b"secret\n")
        root.chmod(0o755)
        result = subprocess.run(
            [sys.executable, "-c", PERMISSION_SCRIPT, str(root)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        # Made unreadable after indexing: a 404, not a 500 or a traceback.
        assert report["served_after_chmod"][0].startswith("404")
        assert report["readable"] == ["200 OK", "ok\n"]
        # Unreadable at index time: directories and files are skipped, each
        # with a warning naming it.
        assert "/static/locked/inner.txt" not in report["urls"]
        assert f"skipping directory {root / 'locked'}" in report["log"]
        assert "/static/secret.txt" not in report["urls"]
        assert f"skipping {root / 'secret.txt'}: permission denied" in report["log"]
        assert "/static/ok.txt" in report["urls"]
    finally:
        for path in (base / "root" / "locked", base / "root"):
            with contextlib.suppress(OSError):
                path.chmod(0o755)
        subprocess.run(["rm", "-rf", str(base)], check=False)
