"""Profile one contender under load with py-spy (``pip install py-spy``).

    python benchmarks/profile_server.py staticserve@uvicorn small_br
    python benchmarks/profile_server.py bare@granian-asgi ceiling --duration 8

Starts the contender exactly as ``run.py`` does (pinned to core 0), drives the
scenario with wrk on core 1 while ``py-spy record`` samples the server (and
its worker subprocesses), then prints the functions with the most samples,
self and inclusive. Raw collapsed stacks go to ``benchmarks/work/profiles/``
(``flamegraph.pl`` or speedscope read them).
"""

from __future__ import annotations

import argparse
import collections
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "apps"))

import corpus as corpus_mod  # noqa: E402
import run  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("contender", help="e.g. staticserve@uvicorn, bare@granian-wsgi")
    ap.add_argument("scenario", help="scenario key (small_br, js_br, ...) or 'ceiling'")
    ap.add_argument("--duration", type=int, default=6)
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args(argv)
    if not shutil.which("py-spy"):
        print("py-spy is not installed: pip install py-spy", file=sys.stderr)
        return 2
    corp = corpus_mod.generate_source()
    cons = {c.key: c for c in run.contenders(True, True)}
    c = cons[args.contender]
    corpus_mod.prepare_roots(corp, [c.flavour])
    scens = {s.key: s for s in run.scenarios(corp)}
    sc = run.CEILING if args.scenario == "ceiling" else scens[args.scenario]
    outdir = corpus_mod.WORK / "profiles"
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / f"{c.key.replace('@', '-')}-{sc.key}.txt"
    server = run.Server(c, run.ServerOptions(), outdir)
    try:
        server.wait_ready()
        chk = run.verify(c, sc, server.port, corp)
        if not chk.ok:
            print(f"WRONG answer: {chk.note}")
            return 1
        run.run_wrk(server.port, sc, chk.wrk_headers, 1)  # warm-up
        spy = subprocess.Popen(
            [
                "py-spy",
                "record",
                "--pid",
                str(server.proc.pid),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                str(args.rate),
                "--duration",
                str(args.duration + 1),
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        result: dict = {}
        t = threading.Thread(
            target=lambda: result.update(
                run.run_wrk(server.port, sc, chk.wrk_headers, args.duration)
            )
        )
        t.start()
        t.join()
        spy.wait(args.duration + 30)
    finally:
        server.stop()
    print(f"{c.key} {sc.key}: {result.get('rps', 0):,.0f} req/s under py-spy; stacks in {out}")
    self_count: collections.Counter[str] = collections.Counter()
    incl: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack:
            continue
        k = int(n)
        frames = stack.split(";")
        total += k
        self_count[frames[-1]] += k
        for f in set(frames):
            incl[f] += k
    print(f"\n{total} samples. Top self:")
    for f, k in self_count.most_common(args.top):
        print(f"  {k / total:6.1%}  {f}")
    print("\nTop inclusive:")
    for f, k in incl.most_common(args.top):
        print(f"  {k / total:6.1%}  {f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
