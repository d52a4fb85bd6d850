"""Instructions per request of each adapter path, counted by valgrind (load-independent).

    python benchmarks/bench_instructions.py            # needs valgrind (apt-get install valgrind)

Throughput on a shared 2-core machine moves by 10-50 % with the neighbours'
load; an instruction count does not. This runs one Python process under
``valgrind --tool=callgrind`` that calls each app in-process ``N`` times per
case (an ASGI coroutine is driven by hand, so no event loop is counted) and
marks the case boundaries with ``os.getppid()``, before which callgrind dumps
its counters. Reported: CPU instructions per call for staticserve's ASGI and
WSGI middleware, the header-matched apps (staticserve's exact answer replayed
from constants) and the bare inner app, on the benchmark corpus. The
difference to the matched app is what staticserve's own Python costs per
request; ``run.py`` shows what that is worth in requests per second.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
N = 400


def _child() -> None:
    """Runs under callgrind: set up every case, then time each behind a marker."""
    sys.path[:0] = [str(HERE.parent), str(HERE), str(HERE / "apps")]
    import corpus as corpus_mod

    root = str(corpus_mod.ROOTS / "staticserve")
    os.environ["BENCH_ROOT"] = root
    import matched_record
    import run
    from common import bare_asgi, bare_wsgi

    from staticserve import StaticServe, StaticServeWSGI

    corp = corpus_mod.generate_source()
    scens = [s for s in run.scenarios(corp) if s.key not in ("big", "js_br")]
    matched_file = Path(os.environ["BENCH_MATCHED"])
    matched_record.record(scens, Path(root), "/static/", matched_file)
    import matched_asgi
    import matched_wsgi

    asgi = StaticServe(bare_asgi, root=root, prefix="/static/")
    wsgi = StaticServeWSGI(bare_wsgi, root=root, prefix="/static/")
    recorded = __import__("json").loads(matched_file.read_text())["asgi"]

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
        env = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "",
               "HTTP_HOST": "127.0.0.1:8000"}  # fmt: skip
        for k, v in headers.items():
            env["HTTP_" + k.upper().replace("-", "_")] = v
        return env

    def drive(app, sc):
        coro = app(sc, receive, send)
        try:
            coro.send(None)
        except StopIteration:
            return
        raise RuntimeError("the app suspended: not a same-call answer")

    cases = []
    for sc in scens:
        headers = recorded[sc.key]["request_headers"]
        cases.append((f"{sc.key} staticserve ASGI", drive, asgi, scope(sc.path, headers)))
        cases.append((f"{sc.key} staticserve WSGI", None, wsgi, environ(sc.path, headers)))
        if sc.key != "pass":
            mpath = "/matched/" + sc.key
            cases.append((f"{sc.key} matched ASGI", drive, matched_asgi.app, scope(mpath, headers)))
            cases.append(
                (f"{sc.key} matched WSGI", None, matched_wsgi.app, environ(mpath, headers))
            )
    cases.append(("bare ASGI", drive, bare_asgi, scope("/app/page", {})))
    cases.append(("bare WSGI", None, bare_wsgi, environ("/app/page", {})))
    names = []
    for name, driver, app, req in cases:
        for _ in range(20):  # warm every cache (negotiation, str headers) first
            driver(app, req) if driver else app(req, start_response)
        names.append(name)
        os.getppid()
        if driver is None:
            for _ in range(N):
                app(req, start_response)
        else:
            for _ in range(N):
                driver(app, req)
    os.getppid()
    print("CASES " + "|".join(names))


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child()
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed: apt-get install -y valgrind", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        env = {**os.environ, "PYTHONHASHSEED": "0", "BENCH_MATCHED": str(Path(tmp) / "m.json")}
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--dump-before=os_getppid",
             f"--callgrind-out-file={out}", sys.executable, __file__, "--child"],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        names = next(
            line[6:].split("|") for line in proc.stdout.splitlines() if line.startswith("CASES ")
        )
        dumps = sorted(Path(tmp).glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
        counts = [int(re.search(r"^summary: (\d+)", d.read_text(), re.M)[1]) for d in dumps]
    # Dump k (1-based) ends the segment before marker k: dump 1 is the set-up,
    # dump k+1 is case k.
    per_call = {name: counts[i + 1] / N for i, name in enumerate(names)}
    print(f"{'case':34s} {'instructions/call':>18s}")
    for name, value in per_call.items():
        print(f"{name:34s} {value:18,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
