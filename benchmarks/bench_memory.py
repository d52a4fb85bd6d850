"""Memory per worker once every file has been requested, on real servers.

    python benchmarks/bench_memory.py                     # 20,000 files
    python benchmarks/bench_memory.py --sizes 10000 100000

Tree: ``bench_index.py``'s (nested app directories, css/js/png/svg/woff2, .br
and .gz siblings beside about a third of the text files), walked at start-up
(no manifest), as in ``benchmarks/results/index.md``.

**Real servers** (one worker each, started as a user would): the worker's RSS
(``/proc/<pid>/status``) after one request, then after a warm-up that requests
every file once (``GET``, ``Accept-Encoding: gzip, deflate, br, zstd``, 4
keep-alive connections); *retained per file* = the growth / files. Contenders:

* ``staticserve uvicorn`` / ``staticserve gunicorn``: the defaults
  (``cached_files_max=20000``, ``memory_budget=64 MiB``);
* ``staticserve uvicorn, no cap``: ``cached_files_max=None``, every file's
  answer kept (the per-file cost of a built answer);
* ``whitenoise gunicorn``: WhiteNoise builds every file's answer at start, so
  its RSS is measured after start-up (it does not grow with requests).

**In process** (tracemalloc, one process per row): the Python heap retained by
the index plus every file's first request, and the sum of the first-request
costs next to WhiteNoise's constructor on the same tree.

Writes ``benchmarks/results/memory.md``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

RESULTS = HERE / "results"
ACCEPT = "gzip, deflate, br, zstd"

# -- the apps the servers import (``bench_memory:asgi_app`` / ``:wsgi_app``) ------

_ROOT = os.environ.get("BENCH_MEMORY_ROOT", "")
_OPTIONS = json.loads(os.environ.get("BENCH_MEMORY_OPTIONS", "{}"))
asgi_app = wsgi_app = whitenoise_app = None


async def bare_asgi(scope, receive, send):  # type: ignore[no-untyped-def]
    """The server alone: what every contender's RSS is compared with."""
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def bare_wsgi(environ, start_response):  # type: ignore[no-untyped-def]
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


if _ROOT and os.environ.get("BENCH_MEMORY_APP") == "whitenoise_app":
    from whitenoise import WhiteNoise

    whitenoise_app = WhiteNoise(None, root=_ROOT, prefix="/static/")
elif _ROOT and os.environ.get("BENCH_MEMORY_APP") == "asgi_app":
    from staticserve import StaticServe

    asgi_app = StaticServe(None, root=_ROOT, prefix="/static/", **_OPTIONS)
elif _ROOT and os.environ.get("BENCH_MEMORY_APP") == "wsgi_app":
    # One app per process: the worker's RSS is that app's alone.
    from staticserve import StaticServeWSGI

    wsgi_app = StaticServeWSGI(None, root=_ROOT, prefix="/static/", **_OPTIONS)

# -- driving a real server ---------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def _worker_pid(pid: int) -> int:
    """gunicorn serves from a child of the master; uvicorn (one worker) from itself."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def _get(conn: http.client.HTTPConnection, url: str) -> int:
    conn.request("GET", url, headers={"accept-encoding": ACCEPT})
    response = conn.getresponse()
    response.read()
    return response.status


def _warm_up(port: int, urls: list[str], bare: bool, connections: int = 4) -> None:
    errors: list[str] = []

    def run(part: list[str]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for url in part:
            status = _get(conn, url)
            if status != 200 and not bare:
                errors.append(f"{url}: {status}")
        conn.close()

    threads = [
        threading.Thread(target=run, args=(urls[i::connections],)) for i in range(connections)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} warm-up requests failed, e.g. {errors[:3]}")


def serve_and_measure(server: str, app: str, root: Path, urls: list[str], options: dict) -> dict:
    port = _free_port()
    py = sys.executable
    if server == "uvicorn":
        cmd = [py, "-m", "uvicorn", f"bench_memory:{app}", "--app-dir", str(HERE),
               "--port", str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    else:
        cmd = [py, "-m", "gunicorn", "--chdir", str(HERE), "--bind", f"127.0.0.1:{port}",
               "--workers", "1", "--log-level", "warning", f"bench_memory:{app}"]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "BENCH_MEMORY_ROOT": str(root),
        "BENCH_MEMORY_OPTIONS": json.dumps(options),
        "BENCH_MEMORY_APP": app,
    }
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                _get(conn, urls[0])
                conn.close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{server} did not start: {proc.stderr.read()!r}") from None
                time.sleep(0.2)
        pid = proc.pid if server == "uvicorn" else _worker_pid(proc.pid)
        before = _rss(pid)
        t0 = time.monotonic()
        _warm_up(port, urls, app.startswith("bare"))
        took = time.monotonic() - t0
        after = _rss(pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"rss_before": before, "rss_after": after, "warm_up_s": took}


# -- in process ----------------------------------------------------------------------


def in_process(kind: str, root: str, traced: bool) -> dict:
    """Heap (``traced``) or time (not: tracemalloc slows every allocation) in one process."""
    import gc
    import tracemalloc

    from whitenoise import WhiteNoise

    from staticserve import StaticServe

    gc.collect()
    if traced:
        tracemalloc.start()
    t0 = time.perf_counter()
    app: object
    if kind == "whitenoise":
        app = WhiteNoise(None, root=root, prefix="/static/")
        first_requests = 0.0
    else:
        app = StaticServe(None, root=root, prefix="/static/", cached_files_max=None)
        files = app.files
        headers = {"accept-encoding": ACCEPT}
        t1 = time.perf_counter()
        for url in files.index.urls():
            files.plan(url, "GET", headers)
        first_requests = time.perf_counter() - t1
    total = time.perf_counter() - t0
    gc.collect()
    current = tracemalloc.get_traced_memory()[0] if traced else 0
    tracemalloc.stop()
    del app
    return {"heap": current, "total_s": total, "first_requests_s": first_requests}


# -- report ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[20_000])
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--contenders", nargs="*", help="names to run (with their bare servers)")
    ap.add_argument("--no-heap", action="store_true", help="skip the in-process part")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(in_process(args.child, args.root, args.traced)))
        return 0

    import bench_index

    contenders = [
        ("bare uvicorn", "uvicorn", "bare_asgi", {}),
        ("bare gunicorn", "gunicorn", "bare_wsgi", {}),
        ("staticserve uvicorn", "uvicorn", "asgi_app", {}),
        ("staticserve gunicorn", "gunicorn", "wsgi_app", {}),
        ("staticserve uvicorn, no cap", "uvicorn", "asgi_app", {"cached_files_max": None}),
        ("whitenoise gunicorn", "gunicorn", "whitenoise_app", {}),
    ]
    if args.contenders:
        chosen = [c for c in contenders if c[0] in args.contenders]
        servers = {c[1] for c in chosen}
        contenders = [c for c in contenders if c[0].startswith("bare") and c[1] in servers]
        contenders += chosen
    served_rows, heap_rows = [], []
    for n in args.sizes:
        root = bench_index.make_tree(n)
        from staticserve import StaticServe

        urls = StaticServe(None, root=root, prefix="/static/").files.index.urls()
        for name, server, app, options in contenders:
            m = serve_and_measure(server, app, root, urls, options)
            grown = m["rss_after"] - m["rss_before"]
            served_rows.append((n, name, m, grown))
            print(
                f"{n:>7} {name:30s} RSS {m['rss_before'] / 1e6:6.1f} -> "
                f"{m['rss_after'] / 1e6:6.1f} MB  (+{grown / n:,.0f} B/file, "
                f"warm-up {m['warm_up_s']:.1f}s)",
                flush=True,
            )
        for kind in () if args.no_heap else ("staticserve", "whitenoise"):
            env = {**os.environ, "PYTHONPATH": str(REPO)}
            d = {}
            for traced in ([], ["--traced"]):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", kind, "--root", str(root), *traced],
                    capture_output=True, text=True, env=env, check=True,
                )  # fmt: skip
                got = json.loads(out.stdout.strip().splitlines()[-1])
                d.update({"heap": got["heap"]} if traced else got)
            heap_rows.append((n, kind, d))
            print(f"{n:>7} {kind:12s} heap {d['heap'] / n:,.0f} B/file  {d}", flush=True)

    cmd = " ".join(argv if argv is not None else sys.argv[1:])
    lines = [
        "# Memory per worker after every file was requested once\n",
        f"Generated by `python benchmarks/bench_memory.py {cmd}`".rstrip()
        + f" on {time.strftime('%Y-%m-%d %H:%M %Z')}, Python {platform.python_version()}, "
        f"{platform.platform()}. Tree: `bench_index.py`'s, walked at start-up (no "
        "manifest). One worker per server; RSS from `/proc/<pid>/status` after one "
        "request and after requesting every file once (4 keep-alive connections, "
        f"`Accept-Encoding: {ACCEPT}`). The machine is shared: RSS is exact, times "
        "are not.\n",
        "| files | server | RSS after start | RSS after warm-up | growth in warm-up "
        "| retained (vs bare server) | retained per file |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    bare = {(n, name.split()[1]): m for n, name, m, _ in served_rows if name.startswith("bare")}
    for n, name, m, grown in served_rows:
        if name.startswith("bare"):
            continue
        base = bare[(n, "gunicorn" if "gunicorn" in name else "uvicorn")]["rss_after"]
        kept = m["rss_after"] - base
        lines.append(
            f"| {n:,} | {name} | {m['rss_before'] / 1e6:.1f} MB | {m['rss_after'] / 1e6:.1f} MB "
            f"| {grown / 1e6:.1f} MB | {kept / 1e6:.1f} MB | {kept / n:,.0f} B |"
        )
    lines.append("")
    lines.append(
        "Bare servers (a trivial app, same warm-up): "
        + ", ".join(
            f"{name} {m['rss_after'] / 1e6:.1f} MB ({n:,} requests)"
            for n, name, m, _ in served_rows
            if name.startswith("bare")
        )
        + ". *Retained* = RSS after the warm-up minus the bare server's: the index, the "
        "built answers and the files' bytes held in memory.\n"
    )
    lines += [
        "",
        "In process (staticserve with `cached_files_max=None`, every answer kept; "
        "WhiteNoise builds all of them in its constructor). Heap: tracemalloc, in its "
        "own process; time: another process without tracemalloc. staticserve's time "
        "is the sum of every file's first request (index built beforehand), without a "
        "manifest, so it includes hashing each file for its content ETag:\n",
        "| files | contender | Python heap retained | per file | time |",
        "|---:|---|---:|---:|---:|",
    ]
    for n, kind, d in heap_rows:
        what = (
            f"{d['first_requests_s']:.2f} s for every first request"
            if kind == "staticserve"
            else f"{d['total_s']:.2f} s constructor"
        )
        lines.append(
            f"| {n:,} | {kind} | {d['heap'] / 1e6:.1f} MB | {d['heap'] / n:,.0f} B | {what} |"
        )
    lines.append("")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
