"""Instructions per request of each adapter path, counted by valgrind (load-independent).

    python benchmarks/bench_instructions.py   # needs valgrind; writes results/instructions.md

Throughput on a shared 2-core machine moves by 10-50 % with the neighbours'
load; an instruction count does not. This runs one Python process under
``valgrind --tool=callgrind`` that calls each app in-process ``N`` times per
case (an ASGI coroutine is driven by hand, so no event loop is counted) and
marks the case boundaries with ``os.getppid()``, before which callgrind dumps
its counters. Reported: CPU instructions per call for staticserve's ASGI and
WSGI middleware (on the C fast path, and as ``staticserve-py`` on the
pure-Python path), ServeStatic's ASGI and WhiteNoise's WSGI middleware (each on
its own prepared root, each 304 with its own ETag), the header-matched apps
(staticserve's exact answer replayed from constants; the pass-through row shows
the bare inner app instead), on the benchmark corpus. The
difference to the matched app is what staticserve's own Python costs per
request; ``run.py`` shows what that is worth in requests per second.
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = 400


def _child() -> None:
    """Runs under callgrind: set up every case, then count each behind a marker."""
    sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "apps")]
    import corpus as corpus_mod

    roots = corpus_mod.ROOTS
    os.environ["BENCH_ROOT"] = str(roots / "staticserve")
    import matched_record
    import run
    from common import bare_asgi, bare_wsgi
    from servestatic import ServeStaticASGI
    from whitenoise import WhiteNoise

    from staticserve import StaticServe, StaticServeWSGI

    corp = corpus_mod.generate_source()
    scens = [s for s in run.scenarios(corp) if s.key not in ("big", "js_br")]
    matched_file = Path(os.environ["BENCH_MATCHED"])
    matched_record.record(scens, roots / "staticserve", "/static/", matched_file)
    import matched
    import matched_asgi
    import matched_wsgi

    def pure(app):
        app._fast = None  # the pure-Python path: the C front hands every request to _serve
        return app

    asgi_apps = {
        "staticserve": StaticServe(bare_asgi, root=roots / "staticserve", prefix="/static/"),
        "staticserve-py": pure(
            StaticServe(bare_asgi, root=roots / "staticserve", prefix="/static/")
        ),
        "servestatic": ServeStaticASGI(bare_asgi, root=roots / "servestatic", prefix="/static/"),
    }
    wsgi_apps = {
        "staticserve": StaticServeWSGI(bare_wsgi, root=roots / "staticserve", prefix="/static/"),
        "staticserve-py": pure(
            StaticServeWSGI(bare_wsgi, root=roots / "staticserve", prefix="/static/")
        ),
        "whitenoise": WhiteNoise(bare_wsgi, root=roots / "whitenoise", prefix="/static/"),
    }
    # The miss again with the marking off: the app's 404 unchanged, as the peers send it.
    unmarked = {
        "ASGI": StaticServe(bare_asgi, root=roots / "staticserve", prefix="/static/",
                            miss_cache_control=None),
        "WSGI": StaticServeWSGI(bare_wsgi, root=roots / "staticserve", prefix="/static/",
                                miss_cache_control=None),
    }  # fmt: skip

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        pass

    def start_response(status, headers, exc_info=None):
        pass

    def scope(path, headers):
        raw = [(b"host", b"127.0.0.1:8000")]
        raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return {"type": "http", "method": "GET", "path": path, "root_path": "",
                "query_string": b"", "headers": raw}  # fmt: skip

    def environ(path, headers):
        # The keys gunicorn's gthread worker puts in every environ (set-up
        # values are placeholders): a WSGI middleware pays for any scan of them.
        env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "HTTP_HOST": "127.0.0.1:8000", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "SCRIPT_NAME": "",
               "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000", "RAW_URI": path,
               "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.input": None,
               "wsgi.errors": None, "wsgi.multithread": True, "wsgi.multiprocess": False,
               "wsgi.run_once": False, "wsgi.input_terminated": True,
               "gunicorn.socket": None}  # fmt: skip
        for k, v in headers.items():
            env["HTTP_" + k.upper().replace("-", "_")] = v
        return env

    def renewed(req):
        """``req`` made of new objects, as a server makes them for every request."""

        def new(v):
            return (v + v[:1])[:-1] if isinstance(v, (str, bytes)) and v else v

        out = {k: new(v) for k, v in req.items()}
        if "headers" in out:  # ASGI: header names and values are new bytes too
            out["headers"] = [(new(n), new(v)) for n, v in req["headers"]]
        return out

    def drive(app, sc):
        coro = app(sc, receive, send)
        try:
            coro.send(None)
        except StopIteration:
            return True
        except RuntimeError:  # it wants a running event loop (file reads in a thread)
            return False
        coro.close()
        return False  # it suspended: not countable here

    def call_wsgi(app, env):
        result = app(env, start_response)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        return True

    def with_etag(kind, app, sc):
        """The scenario's request headers, with this contender's own ETag for a 304."""
        if not sc.conditional:
            return sc.headers
        call = matched_record._asgi_request if kind == "ASGI" else matched_record._wsgi_request
        first = call(app, sc.path, sc.headers)
        tag = next(v for n, v in first["headers"] if n.lower() == "etag")
        return {**sc.headers, "If-None-Match": tag}

    cases = []
    for sc in scens:
        for lib, app in asgi_apps.items():
            req = scope(sc.path, with_etag("ASGI", app, sc))
            cases.append((sc.key, lib, "ASGI", drive, app, req))
        for lib, app in wsgi_apps.items():
            req = environ(sc.path, with_etag("WSGI", app, sc))
            cases.append((sc.key, lib, "WSGI", call_wsgi, app, req))
        if sc.key == "miss":
            key = "miss, unmarked"
            asgi_req, wsgi_req = scope(sc.path, sc.headers), environ(sc.path, sc.headers)
            cases.append((key, "staticserve", "ASGI", drive, unmarked["ASGI"], asgi_req))
            cases.append((key, "staticserve", "WSGI", call_wsgi, unmarked["WSGI"], wsgi_req))
        if sc.key != "pass":
            headers = matched_record._with_etag(
                lambda p, h: matched_record._asgi_request(asgi_apps["staticserve"], p, h),
                sc.path, sc.headers, sc.conditional,
            )["request_headers"]  # fmt: skip
            mpath = matched.path_for(sc.key, sc.path)
            cases.append(
                (sc.key, "matched", "ASGI", drive, matched_asgi.app, scope(mpath, headers))
            )
            cases.append(
                (sc.key, "matched", "WSGI", call_wsgi, matched_wsgi.app, environ(mpath, headers))
            )
        else:
            cases.append((sc.key, "bare", "ASGI", drive, bare_asgi, scope(sc.path, sc.headers)))
            cases.append(
                (sc.key, "bare", "WSGI", call_wsgi, bare_wsgi, environ(sc.path, sc.headers))
            )
        if sc.key == "small_br":  # again, each request made of new objects, as by a server
            cases += [(sc.key + ", new objects", *c[1:]) for c in cases if c[0] == sc.key]
    names = []
    for key, lib, kind, driver, app, req in cases:
        if driver is drive and isinstance(app, StaticServe):
            # Its first load of a file runs in a thread, which needs a running loop.
            app.files.load(req["path"])
        if not all(driver(app, req) for _ in range(20)):  # also warms every cache
            continue
        names.append(f"{key}/{lib}/{kind}")
        fresh = key.endswith(", new objects")
        requests = [renewed(req) if fresh else req for _ in range(N)]
        # The set-up's garbage is not a request's: collected before counting,
        # so that no case pays for a full collection of the index.
        gc.collect()
        gc.freeze()
        os.getppid()  # the counted segment starts ...
        for each in requests:
            driver(app, each)
        os.getppid()  # ... and ends: the next case's set-up is not counted
    print("CASES " + "|".join(names))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child()
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed: apt-get install -y valgrind", file=sys.stderr)
        return 2
    # The contenders' roots, prepared outside valgrind (kept between runs).
    sys.path[:0] = [str(HERE)]
    import corpus as corpus_mod

    corpus_mod.prepare_roots(
        corpus_mod.generate_source(), ["servestatic", "staticserve", "whitenoise"]
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = {**os.environ, "PYTHONHASHSEED": "0", "BENCH_MATCHED": str(Path(tmp) / "m.json")}
        proc = subprocess.run(
            # --vgdb=no: out of reach of callgrind_control (bench_server_instructions.py
            # zeroes and dumps every callgrind process it can reach).
            ["valgrind", "--tool=callgrind", "--dump-before=os_getppid", "--vgdb=no",
             f"--callgrind-out-file={out}", sys.executable, __file__, "--child"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        names = next(
            line[6:].split("|") for line in proc.stdout.splitlines() if line.startswith("CASES ")
        )
        dumps = sorted(Path(tmp).glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        counts = [int(re.search(r"^summary: (\d+)", d.read_text(), re.M)[1]) for d in dumps]
    # Dump k (1-based) ends the segment before marker k: dump 1 is the set-up,
    # dump 2k is case k, dump 2k+1 the set-up of case k+1.
    per_call = {tuple(name.split("/")): counts[2 * i + 1] / N for i, name in enumerate(names)}
    libs = ["bare", "matched", "staticserve", "staticserve-py", "servestatic", "whitenoise"]
    lines = [
        "# CPU instructions per request, in-process (valgrind)\n",
        f"Generated by `python benchmarks/bench_instructions.py` on "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {N} calls per case after 20 "
        "warm-up calls; `-` = not countable in-process (ServeStatic reads files in a thread). "
        "`matched` replays staticserve's exact answer; the pass-through row's reference is the "
        "bare inner app; `staticserve` runs the C fast path (`staticserve._speedups`), "
        "`staticserve-py` the pure-Python path. `miss, unmarked`: staticserve with "
        "`miss_cache_control=None`, which hands on the app's 404 unchanged, as the peers do. "
        "`new objects`: every call gets a scope or environ of new objects (path, header "
        "names and values), as a server makes them; the other rows reuse one.\n",
    ]
    for kind in ("ASGI", "WSGI"):
        lines.append(f"| {kind} | " + " | ".join(libs) + " |")
        lines.append("|---|" + "---:|" * len(libs))
        for sc in dict.fromkeys(k for k, _, kd in per_call if kd == kind):
            cells = [per_call.get((sc, lib, kind)) for lib in libs]
            lines.append(f"| {sc} | " + " | ".join(f"{c:,.0f}" if c else "-" for c in cells) + " |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    (HERE / "results" / "instructions.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
