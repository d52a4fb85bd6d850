"""Load: 2,000 mixed requests, 200 at a time, against uvicorn, gunicorn (gthread)
and granian (ASGI and WSGI).

The mix: memory hits, disk-streamed hits, br/gzip hits, single and
multi-range requests, 304 revalidations, misses under the prefix and
pass-through paths. Every response is checked (status and a hash of the
decoded body) and the worker's memory is read from /proc before and after.

Nothing here depends on the machine's speed: the run time is printed, never
asserted. A request that meets the HTTP/1.1 keep-alive race (the server closed
an idle reused connection as the request went out, with no byte of answer) is
retried once on a new connection, as RFC 9112 §9.3.1 allows and browsers do;
those retries are counted and reported apart from errors (see
tests/support/keepalive.py), and the server's access log must count exactly
one answer per request, so a retried request was never answered before.
Any other failure, or a retry that fails, is an error.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.hardening.conftest import BIG, CSS, HostileTree, make_hostile_tree
from tests.support.keepalive import CURRENT, Attempt, ReuseAwareTransport, keepalive_race
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(300)  # a hang guard: ~10 s per server unloaded, ~70 s under stress

REQUESTS = 2000
CONCURRENCY = 200
MB = 1024 * 1024


def worker_pid(server: Server) -> int:
    """The process that runs the app: uvicorn itself, or gunicorn's one worker."""
    pid = server.proc.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return int(children[0]) if children else pid


def memory_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def request_mix(tree: HostileTree, etag: str) -> list[tuple[str, dict[str, str], int, bytes]]:
    """(path, headers, expected status, expected decoded body) cases."""
    return [
        ("/static/css/site.css", {"accept-encoding": "identity"}, 200, CSS),
        ("/static/css/site.css", {"accept-encoding": "br"}, 200, CSS),
        ("/static/css/site.css", {"accept-encoding": "gzip"}, 200, CSS),
        ("/static/big.bin", {"range": "bytes=1000-70999"}, 206, BIG[1000:71000]),
        ("/static/big.bin", {"range": "bytes=-4096"}, 206, BIG[-4096:]),
        ("/static/app.js", {}, 200, tree.files["app.js"]),
        ("/static/css/site.css", {"accept-encoding": "identity", "if-none-match": etag}, 304, b""),
        ("/static/missing.css", {}, 200, b"app: GET /static/missing.css"),
        ("/api/users", {}, 200, b"app: GET /api/users"),
    ]


def multipart_ok(response: httpx.Response) -> bool:
    boundary = response.headers["content-type"].split("boundary=")[1].encode()
    parts = response.content.split(b"--" + boundary)
    return len(parts) == 4 and BIG[0:10] in parts[1] and BIG[5000:5010] in parts[2]


@dataclass
class Outcome:
    requests: int
    errors: list[str]
    retries: list[str]  # keep-alive races, each retried once on a new connection
    connections: int
    elapsed: float  # reported, never asserted


async def hammer(server: Server, tree: HostileTree, requests: int) -> Outcome:
    # 20 clients x 10 connections: httpcore's pool scans its connections on
    # every request, so one pool of 200 would measure the client, not the server.
    transports = [ReuseAwareTransport(10, 10) for _ in range(20)]
    clients = [httpx.AsyncClient(base_url=server.url, transport=t, timeout=60) for t in transports]
    # Retries go out on a fresh connection each (no keep-alive), so a retry
    # cannot meet the race again: if it fails, that is an error.
    fresh = httpx.AsyncClient(
        base_url=server.url,
        transport=ReuseAwareTransport(CONCURRENCY, 0),
        timeout=60,
    )
    try:
        identity = {"accept-encoding": "identity"}
        etag = (await clients[0].get("/static/css/site.css", headers=identity)).headers["etag"]
        mix = request_mix(tree, etag)
        expected = [(p, h, s, sha(b)) for p, h, s, b in mix]
        expected.append(("/static/big.bin", {"range": "bytes=0-9,5000-5009"}, 206, ""))
        rng = random.Random(42)
        plan = [rng.randrange(len(expected)) for _ in range(requests)]
        semaphore = asyncio.Semaphore(CONCURRENCY)
        errors: list[str] = []
        retries: list[str] = []

        def check(response: httpx.Response, choice: int) -> None:
            path, headers, status, digest = expected[choice]
            if choice == len(mix):  # multipart ranges
                good = response.status_code == 206 and multipart_ok(response)
            else:
                good = response.status_code == status and sha(response.content) == digest
            if not good:
                errors.append(f"{path} {headers}: {response.status_code}")

        async def one(number: int, choice: int) -> None:
            client = clients[number % len(clients)]
            path, headers, _, _ = expected[choice]
            async with semaphore:
                attempt = Attempt()
                CURRENT.set(attempt)
                try:
                    response = await client.get(path, headers=headers)
                except Exception as exc:  # every failure is reported, none raised
                    race = keepalive_race(exc, attempt, server.kind in CLOSE_IDLE_NEW_CONNECTIONS)
                    if race is None:
                        errors.append(f"{path}: {type(exc).__name__}: {exc} ({attempt})")
                        return
                    retries.append(
                        f"{race}: request {attempt.earlier_requests + 1} on connection "
                        f"{attempt.connection} (port {attempt.local_port}), "
                        f"idle {attempt.idle_seconds:.2f}s"
                    )
                    retry = Attempt()
                    CURRENT.set(retry)
                    try:
                        response = await fresh.get(path, headers=headers)
                    except Exception as exc:  # every failure is reported, none raised
                        errors.append(f"{path} (retried): {type(exc).__name__}: {exc} ({retry})")
                        return
                check(response, choice)

        started = time.perf_counter()
        await asyncio.gather(*(one(number, choice) for number, choice in enumerate(plan)))
        elapsed = time.perf_counter() - started
        connections = sum(t.backend.connections for t in transports)
        return Outcome(len(plan), errors, retries, connections, elapsed)
    finally:
        for client in [*clients, fresh]:
            await client.aclose()


SERVERS = [
    ("uvicorn", "tests.hardening.apps:asgi_app"),
    ("gunicorn-gthread", "tests.hardening.apps:wsgi_app"),
    ("granian", "tests.hardening.apps:asgi_app"),
    ("granian-wsgi", "tests.hardening.apps:wsgi_app"),
]
# Servers that also close a *new* connection whose request has not arrived
# within their keep-alive time (gunicorn's gthread worker: murder_pending).
# On a starved client a connection can sit that long between connect and
# send; for the other servers a new connection closed unanswered is an error.
CLOSE_IDLE_NEW_CONNECTIONS = {"gunicorn-gthread"}


@pytest.fixture(scope="module", params=SERVERS, ids=[kind for kind, _ in SERVERS])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, HostileTree]]:
    kind, target = request.param
    tree = make_hostile_tree(tmp_path_factory.mktemp(f"load-{kind}"))
    # Files over 4 KiB are streamed from disk (site.css: identity, br and gzip),
    # the rest held in memory, so both send paths are under load.
    env = {"HARDEN_ROOT": str(tree.root), "HARDEN_OPTIONS": '{"memory_file_max": 4096}'}
    extra = [] if kind == "uvicorn" else ["--backlog", "2048"]  # uvicorn's default is 2048
    with running_server(kind, target, env=env, extra_args=extra, access_log=True) as server:
        yield server, tree


# How often the keep-alive race happens depends on load: with the two cores
# oversubscribed 3x it was 1 in 5,000 requests on uvicorn (5 s keep-alive) and
# up to 1 in 20 on gunicorn-gthread (2 s keep-alive, and its worker closes
# expired connections without looking for a request that has just arrived).
# The bound only catches a server that has stopped keeping connections alive.
MAX_RACES = REQUESTS // 4


def wait_for_answers(server: Server, expected: int, timeout: float = 30) -> int:
    """The server's count of answered requests, once its log has caught up."""
    deadline = time.monotonic() + timeout  # a hang guard: the log lags by milliseconds
    while (answered := server.answered()) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return answered


def test_mixed_load_has_no_errors_no_wrong_bodies_and_stable_memory(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    pid = worker_pid(server)
    # A warm-up round first: imports, the index's lazily built resources and
    # the memory-held bodies are then in place, so "before" is steady state.
    warm = asyncio.run(hammer(server, tree, 300))
    assert not warm.errors[:10], warm.errors[:10]
    before = memory_kib(pid)
    run = asyncio.run(hammer(server, tree, REQUESTS))
    after = memory_kib(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    print(
        f"\n{server.kind}: {run.requests} requests, {CONCURRENCY} concurrent, "
        f"{run.elapsed:.1f}s ({run.requests / run.elapsed:.0f} req/s) over "
        f"{run.connections} connections; errors {len(run.errors)}; keep-alive races "
        f"retried {len(run.retries)} {run.retries[:5]}; "
        f"RSS before {before['VmRSS'] / 1024:.1f} MiB, after {after['VmRSS'] / 1024:.1f} MiB, "
        f"peak {after['VmHWM'] / 1024:.1f} MiB; open fds after {fds}"
    )
    assert run.errors == []
    # Each race is retried once and answered once. The server's own access log
    # must count exactly the answers the client got: a request that met the
    # race was never read by the server (had it been answered and lost, or
    # answered twice, the counts would differ).
    answers = 2 + warm.requests + run.requests  # with the two ETag probes
    assert wait_for_answers(server, answers) == answers
    assert len(warm.retries) + len(run.retries) <= MAX_RACES, run.retries
    # Stable: a second identical run may grow RSS only by allocator noise, not
    # by anything proportional to the 2,000 requests.
    assert after["VmRSS"] - before["VmRSS"] < 32 * 1024
    assert "Traceback" not in server.log()
    assert worker_pid(server) == pid  # no worker died and was replaced meanwhile
