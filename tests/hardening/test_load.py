"""Load: 2,000 mixed requests, 200 at a time, against uvicorn and gunicorn (gthread).

The mix: memory hits, disk-streamed hits, br/gzip hits, single and
multi-range requests, 304 revalidations, misses under the prefix and
pass-through paths. Every response is checked (status and a hash of the
decoded body) and the worker's memory is read from /proc before and after.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.hardening.conftest import BIG, CSS, HostileTree, make_hostile_tree
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(120)

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


async def hammer(server: Server, tree: HostileTree, requests: int) -> tuple[int, list[str], float]:
    # 20 clients x 10 connections: httpcore's pool scans its connections on
    # every request, so one pool of 200 would measure the client, not the server.
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10)
    clients = [httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) for _ in range(20)]
    try:
        identity = {"accept-encoding": "identity"}
        etag = (await clients[0].get("/static/css/site.css", headers=identity)).headers["etag"]
        mix = request_mix(tree, etag)
        expected = [(p, h, s, sha(b)) for p, h, s, b in mix]
        rng = random.Random(42)
        plan = [rng.randrange(len(mix) + 1) for _ in range(requests)]
        semaphore = asyncio.Semaphore(CONCURRENCY)
        errors: list[str] = []

        async def one(number: int, choice: int) -> None:
            client = clients[number % len(clients)]
            async with semaphore:
                try:
                    if choice == len(mix):  # multipart ranges
                        r = await client.get(
                            "/static/big.bin", headers={"range": "bytes=0-9,5000-5009"}
                        )
                        if r.status_code != 206 or not multipart_ok(r):
                            errors.append(f"multipart: {r.status_code}")
                        return
                    path, headers, status, digest = expected[choice]
                    r = await client.get(path, headers=headers)
                    if r.status_code != status or sha(r.content) != digest:
                        errors.append(f"{path} {headers}: {r.status_code}")
                except httpx.HTTPError as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")

        started = time.perf_counter()
        await asyncio.gather(*(one(number, choice) for number, choice in enumerate(plan)))
        return len(plan), errors, time.perf_counter() - started
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture(
    scope="module",
    params=[
        ("uvicorn", "tests.hardening.apps:asgi_app"),
        ("gunicorn-gthread", "tests.hardening.apps:wsgi_app"),
    ],
    ids=["uvicorn", "gunicorn-gthread"],
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, HostileTree]]:
    kind, target = request.param
    tree = make_hostile_tree(tmp_path_factory.mktemp(f"load-{kind}"))
    # Files over 4 KiB are streamed from disk (site.css: identity, br and gzip),
    # the rest held in memory, so both send paths are under load.
    env = {"HARDEN_ROOT": str(tree.root), "HARDEN_OPTIONS": '{"memory_file_max": 4096}'}
    extra = ["--backlog", "2048"] if kind.startswith("gunicorn") else []
    with running_server(kind, target, env=env, extra_args=extra) as server:
        yield server, tree


def test_mixed_load_has_no_errors_no_wrong_bodies_and_stable_memory(
    served: tuple[Server, HostileTree],
) -> None:
    server, tree = served
    pid = worker_pid(server)
    # A warm-up round first: imports, the index's lazily built resources and
    # the memory-held bodies are then in place, so "before" is steady state.
    count, errors, _ = asyncio.run(hammer(server, tree, 300))
    assert not errors[:10], errors[:10]
    before = memory_kib(pid)
    count, errors, elapsed = asyncio.run(hammer(server, tree, REQUESTS))
    after = memory_kib(pid)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    print(
        f"\n{server.proc.args[2]}: {count} requests, {CONCURRENCY} concurrent, "
        f"{elapsed:.1f}s ({count / elapsed:.0f} req/s); errors {len(errors)}; "
        f"RSS before {before['VmRSS'] / 1024:.1f} MiB, after {after['VmRSS'] / 1024:.1f} MiB, "
        f"peak {after['VmHWM'] / 1024:.1f} MiB; open fds after {fds}"
    )
    assert errors == []
    # Stable: a second identical run may grow RSS only by allocator noise, not
    # by anything proportional to the 2,000 requests.
    assert after["VmRSS"] - before["VmRSS"] < 32 * 1024
    assert "Traceback" not in server.log()
