"""Side-by-side static-file serving benchmark (issue 5).

    python benchmarks/run.py                 # full: 3 interleaved runs, 2 s per measurement
    python benchmarks/run.py --quick         # smoke: 1 run, 1 s per measurement
    python benchmarks/run.py --runs 5 --duration 5 --only uvicorn

Every contender is a real server process pinned to core 0 (``taskset -c 0``),
one worker, on 127.0.0.1; ``wrk`` drives it pinned to core 1.  Each response
is verified (status, Content-Encoding, Content-Length, body bytes) before it
is timed: a contender that answers wrongly scores nothing.  Contenders run in
a rotated order in each run and the median over runs is reported, beside the
ratio to the same server's bare-app ceiling and to nginx.

Writes ``benchmarks/results/serve.md``, ``serve.svg`` and ``serve.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
APPS = HERE / "apps"
RESULTS = HERE / "results"
LUA = HERE / "wrk_done.lua"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(APPS))

import chart  # noqa: E402
import corpus as corpus_mod  # noqa: E402
import matched_record  # noqa: E402
from common import BODY  # noqa: E402

PREFIX = "/static/"
PASS_PATH = "/app/page"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BR_GZIP = {"Accept-Encoding": "br, gzip"}


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    headers: dict[str, str]
    status: int = 200
    file: str | None = None  # file under the root whose bytes the body must decode to
    connections: int = 32
    unit: str = "req/s"
    conditional: bool = False  # fetch the ETag first, send it back as If-None-Match


def scenarios(c: corpus_mod.Corpus) -> list[Scenario]:
    s = corpus_mod
    return [
        Scenario("small_br", "2 KB CSS, br", PREFIX + s.SMALL_CSS, BR_GZIP, file=s.SMALL_CSS),
        Scenario("small_id", "2 KB CSS, identity", PREFIX + s.SMALL_CSS, {}, file=s.SMALL_CSS),
        Scenario("js_br", "100 KB JS, br", PREFIX + s.MEDIUM_JS, BR_GZIP, file=s.MEDIUM_JS),
        Scenario(
            "big",
            "5 MB file",
            PREFIX + s.BIG_FILE,
            BR_GZIP,
            file=s.BIG_FILE,
            connections=4,
            unit="MB/s",
        ),
        Scenario(
            "etag_304", "304 If-None-Match", PREFIX + s.SMALL_CSS, BR_GZIP, 304, conditional=True
        ),
        Scenario("pass", "pass-through to app", PASS_PATH, BR_GZIP),
        Scenario("miss", "miss under prefix (404)", PREFIX + s.MISSING, BR_GZIP, 404),
    ]


def at_connections(scens: list[Scenario], counts: list[int]) -> list[Scenario]:
    """Each scenario at each connection count; keys other than 32's get ``@N``.

    The 5 MB file stays at its own 4 connections (it measures bandwidth).
    """
    out = []
    for n in counts:
        for sc in scens:
            if n == 32:
                out.append(sc)
            elif sc.key != "big":
                out.append(replace(sc, key=f"{sc.key}@{n}", connections=n))
    return out


def base_key(key: str) -> str:
    return key.split("@", 1)[0]


# Checked once per server start but not timed: the rest of the corpus.
def extra_checks(c: corpus_mod.Corpus) -> list[Scenario]:
    return [
        Scenario(
            "image",
            "incompressible image",
            PREFIX + corpus_mod.IMAGE,
            BR_GZIP,
            file=corpus_mod.IMAGE,
        ),
        Scenario("hashed", "hashed JS", PREFIX + c.hashed_js, BR_GZIP, file=c.hashed_js),
        Scenario(
            "admin",
            "Django admin CSS",
            PREFIX + "admin/css/base.css",
            BR_GZIP,
            file="admin/css/base.css",
        ),
    ]


# --------------------------------------------------------------------------- contenders


@dataclass
class Contender:
    key: str  # unique, e.g. "staticserve@uvicorn"
    library: str  # staticserve / whitenoise / servestatic / starlette / nginx / bare
    server: str  # uvicorn / granian-asgi / gunicorn / granian-wsgi / nginx
    module: str | None  # app module in benchmarks/apps
    flavour: str  # which prepared root
    available: bool = True
    why_unavailable: str = ""

    @property
    def is_bare(self) -> bool:
        return self.library == "bare"


def contenders(ss_asgi: bool, ss_wsgi: bool) -> list[Contender]:
    out = []
    for server in ("uvicorn", "granian-asgi"):
        out.append(Contender(f"bare@{server}", "bare", server, "bare_asgi", "plain"))
        out.append(Contender(f"matched@{server}", "matched", server, "matched_asgi", "plain"))
        out.append(
            Contender(
                f"staticserve@{server}",
                "staticserve",
                server,
                "staticserve_asgi",
                "staticserve",
                ss_asgi,
                "staticserve.StaticServe not importable yet",
            )
        )
        out.append(
            Contender(
                f"servestatic@{server}", "servestatic", server, "servestatic_asgi", "servestatic"
            )
        )
        out.append(Contender(f"starlette@{server}", "starlette", server, "starlette_app", "plain"))
    for server in ("gunicorn", "granian-wsgi"):
        out.append(Contender(f"bare@{server}", "bare", server, "bare_wsgi", "plain"))
        out.append(Contender(f"matched@{server}", "matched", server, "matched_wsgi", "plain"))
        out.append(
            Contender(
                f"staticserve@{server}",
                "staticserve",
                server,
                "staticserve_wsgi",
                "staticserve",
                ss_wsgi,
                "staticserve.StaticServeWSGI not importable yet",
            )
        )
        out.append(
            Contender(f"whitenoise@{server}", "whitenoise", server, "whitenoise_wsgi", "whitenoise")
        )
    out.append(Contender("nginx", "nginx", "nginx", None, "nginx"))
    return out


SERVER_ORDER = ["uvicorn", "granian-asgi", "gunicorn", "granian-wsgi", "nginx"]
LIB_ORDER = ["bare", "matched", "staticserve", "servestatic", "whitenoise", "starlette", "nginx"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pin(core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


@dataclass
class ServerOptions:
    gunicorn_worker: str = "gthread"
    gunicorn_threads: int = 8
    granian_wsgi_threads: int = 1

    def describe(self) -> dict[str, str]:
        uv_loop = "uvloop" if have("uvloop") else "asyncio"
        uv_http = "httptools" if have("httptools") else "h11"
        gworker = self.gunicorn_worker + (
            f" --threads {self.gunicorn_threads}" if self.gunicorn_worker == "gthread" else ""
        )
        return {
            "uvicorn": f"uvicorn --loop {uv_loop} --http {uv_http} --no-access-log",
            "granian-asgi": "granian --interface asgi --workers 1 --runtime-mode st "
            f"--loop {uv_loop} --http 1 --no-ws",
            "gunicorn": f"gunicorn -w 1 -k {gworker} (sendfile on by default)",
            "granian-wsgi": "granian --interface wsgi --workers 1 --runtime-mode st "
            f"--blocking-threads {self.granian_wsgi_threads} --http 1 --no-ws",
            "nginx": "nginx: 1 process, sendfile on, gzip_static on, open_file_cache, "
            "access_log off",
        }


def server_command(c: Contender, port: int, opts: ServerOptions, tmp: Path) -> list[str]:
    target = f"{c.module}:app"
    loop = "uvloop" if have("uvloop") else "asyncio"
    if c.server == "uvicorn":
        return [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--app-dir",
            str(APPS),
            "--no-access-log",
            "--log-level",
            "warning",
            "--loop",
            loop,
            "--http",
            "httptools" if have("httptools") else "h11",
        ]
    if c.server in ("granian-asgi", "granian-wsgi"):
        iface = "asgi" if c.server == "granian-asgi" else "wsgi"
        cmd = [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            iface,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--runtime-threads",
            "1",
            "--runtime-mode",
            "st",
            "--http",
            "1",
            "--no-ws",
            "--log-level",
            "warning",
            "--working-dir",
            str(APPS),
        ]
        if iface == "asgi":
            cmd += ["--loop", loop]
        else:
            cmd += ["--blocking-threads", str(opts.granian_wsgi_threads)]
        return [*cmd, target]
    if c.server == "gunicorn":
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "1",
            "-k",
            opts.gunicorn_worker,
            "-b",
            f"127.0.0.1:{port}",
            "--chdir",
            str(APPS),
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ]
        if opts.gunicorn_worker == "gthread":
            cmd += ["--threads", str(opts.gunicorn_threads), "--keep-alive", "30"]
        return [*cmd, target]
    if c.server == "nginx":
        conf = tmp / "nginx.conf"
        conf.write_text(nginx_conf(port, corpus_mod.ROOTS / c.flavour, tmp))
        return [NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]
    raise ValueError(c.server)


def nginx_conf(port: int, root: Path, tmp: Path) -> str:
    return f"""
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{
        text/css css;
        text/javascript js;
        image/jpeg jpg;
        video/mp4 mp4;
        image/svg+xml svg;
        font/woff2 woff2;
    }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=1000 inactive=60s;
    client_body_temp_path {tmp}/cb;
    proxy_temp_path {tmp}/px;
    fastcgi_temp_path {tmp}/fc;
    uwsgi_temp_path {tmp}/uw;
    scgi_temp_path {tmp}/sc;
    server {{
        listen 127.0.0.1:{port};
        location {PREFIX} {{
            alias {root}/;
            gzip_static on;
            gzip_vary on;
        }}
        location / {{ return 404; }}
    }}
}}
"""


class Server:
    def __init__(self, c: Contender, opts: ServerOptions, logdir: Path):
        self.c = c
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{c.key.replace('@', '-')}-"))
        cmd = self.launcher() + server_command(c, self.port, opts, self.tmp)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(APPS), str(REPO), env.get("PYTHONPATH", "")])
        env["BENCH_ROOT"] = str(corpus_mod.ROOTS / c.flavour)
        env["BENCH_PREFIX"] = PREFIX
        env["BENCH_MATCHED"] = str(MATCHED_FILE)
        self.log = logdir / f"{c.key.replace('@', '-')}.log"
        self.logf = open(self.log, "ab")  # noqa: SIM115
        self.logf.write(("\n$ " + " ".join(cmd) + "\n").encode())
        self.logf.flush()
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True
        )

    def launcher(self) -> list[str]:
        """What the server command runs under: pinned to core 0."""
        return pin(0)

    def wait_ready(self, timeout: float = 30.0) -> None:
        probe = PREFIX + corpus_mod.SMALL_CSS if self.c.library == "nginx" else PASS_PATH
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}; see {self.log}")
            try:
                fetch(self.port, probe, {}, timeout=1.0)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {timeout}s; see {self.log}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.logf.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------- verification


def fetch(port: int, path: str, headers: dict[str, str], timeout: float = 30.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, hdrs, body
    finally:
        conn.close()


def decode(body: bytes, encoding: str) -> bytes:
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    if encoding in ("zstd",):
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    raise ValueError(f"unknown Content-Encoding {encoding!r}")


@dataclass
class Check:
    ok: bool
    note: str = ""
    encoding: str = ""
    wrk_headers: dict[str, str] = field(default_factory=dict)


def verify(c: Contender, sc: Scenario, port: int, corp: corpus_mod.Corpus) -> Check:
    headers = dict(sc.headers)
    if sc.conditional:
        st, h, _ = fetch(port, sc.path, headers)
        etag = h.get("etag")
        if st != 200 or not etag:
            return Check(False, f"first GET gave {st}, ETag {etag!r}")
        headers["If-None-Match"] = etag
    st, h, body = fetch(port, sc.path, headers)
    if st != sc.status:
        return Check(False, f"status {st}, expected {sc.status}")
    enc = h.get("content-encoding", "").strip().lower()
    cl = h.get("content-length")
    if sc.status == 304:
        if body:
            return Check(False, "304 with a body")
        return Check(True, "", "", headers)
    if cl is None:
        return Check(False, "no Content-Length")
    if int(cl) != len(body):
        return Check(False, f"Content-Length {cl} but {len(body)} body bytes")
    if sc.status == 404:
        return Check(True, "", enc, headers)
    if sc.file is None:  # pass-through: the wrapped app's constant body
        if body != BODY:
            return Check(False, "pass-through body differs from the wrapped app's")
        return Check(True, "", enc, headers)
    accepted = {"", "identity"} | (
        {"br", "gzip"} if "br" in headers.get("Accept-Encoding", "") else set()
    )
    if enc not in accepted:
        return Check(False, f"Content-Encoding {enc!r} not acceptable")
    try:
        decoded = decode(body, enc)
    except Exception as exc:
        return Check(False, f"body does not decode as {enc}: {exc}")
    if decoded != corp.data(sc.file):
        return Check(False, "decoded body differs from the file")
    if c.library == "staticserve":
        # staticserve must pick the precompressed sibling and send its exact bytes.
        root = corpus_mod.ROOTS / c.flavour
        sib = {"br": ".br", "gzip": ".gz", "": ""}.get(enc)
        want_br = (root / (sc.file + ".br")).exists() and "br" in accepted
        if want_br and enc != "br":
            return Check(False, f"served {enc or 'identity'} although a .br sibling exists")
        if sib is not None and body != (root / (sc.file + sib)).read_bytes():
            return Check(False, "body bytes differ from the sibling on disk")
    return Check(True, "", enc or "identity", headers)


# --------------------------------------------------------------------------- wrk


def _process_tree(root: int) -> list[int]:
    """``root`` and its descendants (gunicorn's and granian's workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


def cpu_ns(root: int) -> int:
    """CPU time used so far by a server's whole process tree, in ns (every thread).

    Read from ``/proc/PID/task/TID/schedstat`` (on-CPU time, ns): unlike req/s
    this hardly moves when other work shares the machine, so a ratio of CPU
    time per request is the load-independent view of the same contest.
    """
    total = 0
    for pid in _process_tree(root):
        for sched in Path(f"/proc/{pid}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int(sched.read_text().split()[0])
    return total


def run_wrk(port: int, sc: Scenario, headers: dict[str, str], duration: int) -> dict:
    cmd = [
        *pin(1),
        "wrk",
        "-t1",
        f"-c{sc.connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
    ]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://127.0.0.1:{port}{sc.path}")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            d = json.loads(line[len("WRKJSON ") :])
            secs = d["duration_us"] / 1e6
            d["rps"] = d["requests"] / secs if secs else 0.0
            d["mbps"] = d["bytes"] / secs / 1e6 if secs else 0.0
            return d
    raise RuntimeError(f"wrk gave no result: {out.stdout}\n{out.stderr}")


# --------------------------------------------------------------------------- driver


CEILING = Scenario("ceiling", "bare app, 2 KB constant", PASS_PATH, BR_GZIP)
MATCHED_FILE = corpus_mod.WORK / "matched.json"
# Not header-matched: the pass-through's ceiling is the bare app itself, and
# the 5 MB file measures bandwidth, not per-request cost.
UNMATCHED = {"pass", "big"}


def ceiling_for(sc: Scenario) -> Scenario:
    """The bare ceiling timed in ``sc``'s slot, at ``sc``'s connection count."""
    if sc.connections == 32:
        return CEILING
    return replace(CEILING, key=f"ceiling@{sc.connections}", connections=sc.connections)


def matched_views(scens: list[Scenario]) -> dict[str, Scenario]:
    """The matched app's version of each scenario: same request, its own path.

    The request headers are the recorded ones (the 304's If-None-Match
    included), so wrk sends the matched app the same bytes it sends staticserve.
    """
    recorded = json.loads(MATCHED_FILE.read_text())["asgi"]
    out = {}
    for sc in scens:
        if base_key(sc.key) in UNMATCHED:
            continue
        out[sc.key] = replace(
            sc,
            path=recorded[sc.key]["path"],
            headers=recorded[sc.key]["request_headers"],
            conditional=False,
        )
    return out


def timed_scenario(c: Contender, sc: Scenario, matched: dict[str, Scenario]) -> Scenario | None:
    """What ``c`` is timed on in ``sc``'s slot: the bare ceiling, the matched
    app's view of ``sc``, or ``sc`` itself; None when ``c`` has nothing to time there."""
    if c.is_bare:
        if sc.key == "big":
            return None  # a req/s ceiling says nothing about MB/s
        return ceiling_for(sc)
    if c.library == "matched":
        return matched.get(sc.key)
    return sc


def measure_group(cons, scens, matched, extras, corp, opts, duration, warmup, logdir, log, rot):
    """Measure every contender of one server together; returns result rows.

    All of the group's server processes are started at once (idle ones cost
    nothing), every response is verified, then each scenario is timed on every
    contender back to back in a rotated order, with the bare ceiling measured
    again in each scenario's slot. A ratio to the ceiling therefore divides
    two numbers taken seconds apart, which is what keeps it meaningful on a
    machine shared with other work.
    """
    rows: list[dict] = []
    servers: dict[str, Server] = {}
    checks: dict[tuple[str, str], Check] = {}
    try:
        for c in cons:
            servers[c.key] = Server(c, opts, logdir)
        for c in cons:
            try:
                servers[c.key].wait_ready()
            except Exception as exc:
                log(f"    ! {c.key}: {exc}")
                rows.append({"contender": c.key, "scenario": "*", "ok": False, "note": str(exc)})
                servers.pop(c.key).stop()
                continue
            port = servers[c.key].port
            if c.is_bare:
                todo = list({ceiling_for(sc).key: ceiling_for(sc) for sc in scens}.values())
            elif c.library == "matched":
                todo = list(matched.values())
            else:
                todo = scens
            for sc in todo:
                if c.library == "nginx" and base_key(sc.key) == "pass":
                    continue
                checks[(c.key, sc.key)] = chk = verify(c, sc, port, corp)
                if not chk.ok:
                    log(f"    ! {c.key} {sc.key}: WRONG ({chk.note}), not timed")
                    rows.append(row(c, sc, None, chk))
            if c.library not in ("bare", "matched"):
                for sc in extras:
                    chk = verify(c, sc, port, corp)
                    if not chk.ok:
                        log(f"    ! {c.key} {sc.key}: {chk.note}")
                    rows.append(row(c, sc, None, chk))
            first = todo[0]
            chk = checks.get((c.key, first.key))
            if warmup > 0 and chk is not None and chk.ok:
                run_wrk(port, first, chk.wrk_headers, warmup)
        live = [c for c in cons if c.key in servers]
        for i, sc in enumerate(scens):
            k = (rot + i) % len(live) if live else 0
            for c in live[k:] + live[:k]:
                timed = timed_scenario(c, sc, matched)
                if timed is None:
                    continue
                chk = checks.get((c.key, timed.key))
                if chk is None or not chk.ok:
                    continue
                srv = servers[c.key]
                before = cpu_ns(srv.proc.pid)
                w = run_wrk(srv.port, timed, chk.wrk_headers, duration)
                w["cpu_us"] = (cpu_ns(srv.proc.pid) - before) / 1000 / max(w["requests"], 1)
                rw = row(c, timed, w, chk)
                rw["slot"] = sc.key
                rows.append(rw)
                val = f"{w['mbps']:.0f} MB/s" if sc.unit == "MB/s" else f"{w['rps']:.0f} req/s"
                errs = w["connect"] + w["read"] + w["write"] + w["timeout"]
                log(
                    f"    {c.key:28s} {sc.key:10s} {val:>14s}"
                    + (f"  ({errs} socket errors)" if errs else "")
                )
    finally:
        for srv in servers.values():
            srv.stop()
    return rows


def row(c: Contender, sc: Scenario, w: dict | None, chk: Check) -> dict:
    r = {
        "contender": c.key,
        "library": c.library,
        "server": c.server,
        "scenario": sc.key,
        "ok": chk.ok,
        "note": chk.note,
        "encoding": chk.encoding,
        "timed": w is not None,
    }
    if w is not None:
        r.update(w)
        if w["status"] and sc.status < 400:
            r["ok"] = False
            r["note"] = f"{w['status']} non-2xx/3xx responses under load"
    return r


def environment(opts: ServerOptions) -> dict:
    def ver(mod):
        try:
            from importlib.metadata import version

            return version(mod)
        except Exception:
            return "-"

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    nginx_v = subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip()
    wrk_v = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[
        0
    ]
    try:
        from staticserve import speedups

        fast_path = "C (staticserve._speedups)" if speedups.ENABLED else "pure Python"
    except ImportError:
        fast_path = "-"
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "fast_path": fast_path,
        "cpu": cpu,
        "cores": os.cpu_count(),
        "versions": {
            m: ver(m)
            for m in [
                "staticserve-http",
                "whitenoise",
                "servestatic",
                "starlette",
                "uvicorn",
                "granian",
                "gunicorn",
                "uvloop",
                "httptools",
                "brotli",
            ]
        },
        "nginx": nginx_v,
        "wrk": wrk_v.strip(),
        "servers": opts.describe(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="1 run, 1 s per measurement (~2.5 min)")
    ap.add_argument("--runs", type=int, default=None, help="interleaved runs (default 3, quick 1)")
    ap.add_argument(
        "--duration", type=int, default=None, help="whole seconds per measurement (default 2)"
    )
    ap.add_argument("--warmup", type=int, default=None, help="warm-up seconds per server start")
    ap.add_argument(
        "--only", action="append", default=[], help="substring filter on contender keys"
    )
    ap.add_argument("--scenario", action="append", default=[], help="only these scenario keys")
    ap.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[32, 256],
        help="concurrent connections per measurement, each a set of scenarios (default 32 256)",
    )
    ap.add_argument("--gunicorn-worker", default="gthread", choices=["sync", "gthread"])
    ap.add_argument("--gunicorn-threads", type=int, default=8)
    ap.add_argument("--granian-wsgi-threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=RESULTS, help="where serve.md/svg/json go")
    args = ap.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    runs = args.runs or (1 if args.quick else 3)
    duration = args.duration or (1 if args.quick else 2)
    warmup = args.warmup if args.warmup is not None else 1

    if not shutil.which("wrk"):
        print(
            "wrk is not installed. Install it with:  sudo apt-get install -y wrk", file=sys.stderr
        )
        return 2
    if not Path(NGINX).exists():
        print(
            "nginx not found; nginx rows will be skipped (apt-get install -y nginx-light)",
            file=sys.stderr,
        )

    opts = ServerOptions(args.gunicorn_worker, args.gunicorn_threads, args.granian_wsgi_threads)
    print("corpus ...")
    corp = corpus_mod.generate_source()
    ss_asgi = ss_wsgi = False
    try:
        import staticserve

        ss_asgi = hasattr(staticserve, "StaticServe")
        ss_wsgi = hasattr(staticserve, "StaticServeWSGI")
    except ImportError:
        pass
    cons = [
        c
        for c in contenders(ss_asgi, ss_wsgi)
        if not args.only or any(o in c.key for o in args.only)
    ]
    for c in cons:
        if c.library == "nginx" and not Path(NGINX).exists():
            c.available, c.why_unavailable = False, "nginx not installed"
    notes = corpus_mod.prepare_roots(corp, sorted({c.flavour for c in cons if c.available}))
    scens = [s for s in scenarios(corp) if not args.scenario or s.key in args.scenario]
    scens = at_connections(scens, args.connections)
    if ss_asgi and ss_wsgi and "staticserve" in notes:
        matched_record.record(scens, corpus_mod.ROOTS / "staticserve", PREFIX, MATCHED_FILE)
        matched = matched_views(scens)
    else:
        cons = [c for c in cons if c.library != "matched"]
        matched = {}
    extras = extra_checks(corp) if not args.scenario else []
    active = [c for c in cons if c.available]
    for c in cons:
        if not c.available:
            print(f"skipping {c.key}: {c.why_unavailable}")

    logdir = corpus_mod.WORK / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    n_meas = sum(len(scens) - (1 if c.is_bare else 0) for c in active)
    est = runs * (n_meas * (duration + 0.15) + len(active) * (warmup + 1.5))
    print(
        f"{len(active)} contenders, {len(scens)} scenarios, {runs} run(s) x {duration}s: "
        f"~{est / 60:.1f} min"
    )
    t0 = time.monotonic()
    all_rows: list[dict] = []
    groups = [[c for c in active if c.server == srv] for srv in SERVER_ORDER]
    groups = [g for g in groups if g]
    for r in range(runs):
        order = groups[r % len(groups) :] + groups[: r % len(groups)]
        if r % 2 == 1:
            order = order[::-1]
        print(f"run {r + 1}/{runs}: {', '.join(g[0].server for g in order)}")
        for g in order:
            for rw in measure_group(
                g, scens, matched, extras, corp, opts, duration, warmup, logdir, print, r
            ):
                rw["run"] = r
                all_rows.append(rw)
    elapsed = time.monotonic() - t0

    meta = {
        "command": "python benchmarks/run.py "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "runs": runs,
        "duration": duration,
        "connections": args.connections,
        "warmup": warmup,
        "elapsed_s": round(elapsed),
        "env": environment(opts),
        "roots": notes,
        "skipped": {c.key: c.why_unavailable for c in cons if not c.available},
        "scenarios": {
            s.key: {
                "title": s.title,
                "path": s.path,
                "headers": s.headers,
                "connections": s.connections,
                "unit": s.unit,
            }
            for s in scens
        },
    }
    import report

    args.out.mkdir(parents=True, exist_ok=True)
    agg = report.aggregate(all_rows)
    (args.out / "serve.json").write_text(json.dumps({"meta": meta, "rows": all_rows}, indent=1))
    md = report.markdown(meta, agg, all_rows, [s.key for s in scens])
    (args.out / "serve.md").write_text(md)
    (args.out / "serve.svg").write_text(chart.svg(agg, [s for s in scens], meta))
    print(md)
    print(f"wrote {args.out / 'serve.md'}, serve.svg, serve.json in {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
