"""Per-request Python cost of staticserve's adapters, without a server.

    python benchmarks/bench_adapter.py

Calls ``StaticServe`` / ``StaticServeWSGI`` in a loop with a prebuilt scope /
environ and a no-op ``send`` / ``start_response``, next to the bare inner app,
on the benchmark corpus. The difference is what staticserve itself adds to each
request (route, header scan, lookup, negotiation, plan, messages); the rest of
a request's cost in ``run.py`` is the server's.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "apps"))

import corpus as corpus_mod  # noqa: E402

N = 200_000


def main() -> int:
    corp = corpus_mod.generate_source()
    corpus_mod.prepare_roots(corp, ["staticserve"])
    root = str(corpus_mod.ROOTS / "staticserve")
    os.environ.setdefault("BENCH_ROOT", root)
    from common import bare_asgi, bare_wsgi

    from staticserve import StaticServe, StaticServeWSGI

    asgi = StaticServe(bare_asgi, root=root, prefix="/static/")
    wsgi = StaticServeWSGI(bare_wsgi, root=root, prefix="/static/")
    plan = asgi.files.plan("/static/css/site.css", "GET", {"accept-encoding": "br, gzip"})
    etag = dict(plan.headers)[b"etag"]

    def scope(path, extra=()):
        return {
            "type": "http",
            "path": path,
            "root_path": "",
            "method": "GET",
            "query_string": b"",
            "extensions": {},
            "headers": [(b"host", b"127.0.0.1"), (b"accept-encoding", b"br, gzip"), *extra],
        }

    async def send(message):
        pass

    async def receive():
        return {"type": "http.disconnect"}

    async def loop(app, sc, n):
        for _ in range(n):
            await app(sc, receive, send)

    def time_asgi(app, sc):
        asyncio.run(loop(app, sc, 1000))
        t = time.perf_counter()
        asyncio.run(loop(app, sc, N))
        return (time.perf_counter() - t) / N * 1e6

    def start_response(status, headers, exc_info=None):
        pass

    def time_wsgi(app, env):
        for _ in range(1000):
            app(env, start_response)
        t = time.perf_counter()
        for _ in range(N):
            app(env, start_response)
        return (time.perf_counter() - t) / N * 1e6

    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT_ENCODING": "br, gzip",
    }
    cases = [
        ("bare app (ceiling)", "/app/page", None),
        ("2 KB CSS, br", "/static/css/site.css", None),
        ("100 KB JS, br", "/static/js/app.js", None),
        ("304 If-None-Match", "/static/css/site.css", etag),
        ("pass-through", "/app/page", None),
        ("404 miss", "/static/css/missing.css", None),
    ]
    print(f"{'case':22s} {'ASGI us':>8s} {'WSGI us':>8s}   (per request, {N:,} calls)")
    for name, path, inm in cases:
        bare = name.startswith("bare")
        extra = [(b"if-none-match", inm)] if inm else []
        a = time_asgi(bare_asgi if bare else asgi, scope(path, extra))
        e = dict(env, PATH_INFO=path)
        if inm:
            e["HTTP_IF_NONE_MATCH"] = inm.decode()
        w = time_wsgi(bare_wsgi if bare else wsgi, e)
        print(f"{name:22s} {a:8.2f} {w:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
