"""Start-up cost: index time and memory for 10k and 100k files (issue 2, issue 5).

    python benchmarks/bench_index.py            # 10k and 100k files, median of 3 runs
    python benchmarks/bench_index.py --sizes 10000 --runs 1

Generates a realistic tree per size under ``benchmarks/work/index-<n>/``: nested
app directories, a mix of css / js / png / svg / woff2, .br and .gz siblings
beside about a third of the text files, and a set of Django-style hashed names
(``name.<12 hex>.ext``).  *n* counts servable files; siblings come on top.

Each measurement runs in a fresh subprocess (nothing warm in the interpreter;
the OS page and dentry caches are warm, as they are when a server restarts):

* **time** and **RSS**: wall time of the constructor; peak RSS growth (VmHWM
  after, with the high-water mark reset just before) and retained RSS growth.
* **tracemalloc**: Python-heap peak and retained, in a separate subprocess
  (tracemalloc slows allocation, so it never shares a run with the timing).

Contenders, on the same tree:

* ``staticserve``: ``StaticServe(None, root=..., prefix="/static/")``, the
  ASGI adapter's constructor (it builds the ``StaticIndex``).  staticserve's index
  vets every file at start but builds each Resource's header lists on first
  request, so this is the start-up a server pays.
* ``staticserve+all``: the same, then every URL looked up once, i.e. every
  Resource built: the cost WhiteNoise pays eagerly, for an apples-to-apples view.
* ``whitenoise``: ``WhiteNoise(None, root=..., prefix="/static/")`` with
  autorefresh off (its default), which stats every file and builds its headers.

Writes ``benchmarks/results/index.md`` and ``index.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
WORK = HERE / "work"
RESULTS = HERE / "results"
TREE_VERSION = "index-tree-v1"
CONTENDERS = ["staticserve", "staticserve+all", "whitenoise"]

# --------------------------------------------------------------------------- tree


def make_tree(n: int) -> Path:
    root = WORK / f"index-{n}"
    stamp = root / ".stamp"
    if stamp.exists() and stamp.read_text() == f"{TREE_VERSION} {n}":
        return root
    if root.exists():
        import shutil

        shutil.rmtree(root)
    rng = random.Random(n)
    kinds = [("css", 0.3), ("js", 0.35), ("png", 0.2), ("svg", 0.1), ("woff2", 0.05)]
    exts = [k for k, _ in kinds]
    weights = [w for _, w in kinds]
    made = 0
    app = 0
    while made < n:
        app += 1
        base = root / f"app{app:04d}" / "static" / f"app{app:04d}"
        for sub in ("css", "js", "img", "fonts/sub", "vendor/lib/dist"):
            d = base / sub
            d.mkdir(parents=True, exist_ok=True)
            for _ in range(rng.randint(5, 40)):
                if made >= n:
                    break
                ext = rng.choices(exts, weights)[0]
                stem = f"{rng.choice(['main', 'app', 'vendor', 'icon', 'chunk', 'theme'])}-{made}"
                body = f"/* {stem} */ ".encode() * rng.randint(4, 40)
                if rng.random() < 0.15:  # a Django-style hashed name
                    stem += "." + hashlib.md5(body).hexdigest()[:12]
                name = f"{stem}.{ext}"
                (d / name).write_bytes(body)
                made += 1
                if ext in ("css", "js", "svg") and rng.random() < 0.35:
                    (d / (name + ".gz")).write_bytes(body[: len(body) // 3])
                    (d / (name + ".br")).write_bytes(body[: len(body) // 4])
    stamp.write_text(f"{TREE_VERSION} {n}")
    return root


# --------------------------------------------------------------------------- child


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def child(contender: str, root: str, mode: str) -> dict:
    import gc

    if contender.startswith("staticserve"):
        from staticserve import StaticServe

        def build():
            app = StaticServe(None, root=root, prefix="/static/")
            if contender == "staticserve+all":
                index = _find_index(app)
                for url in index.urls():
                    index.lookup(url)
            return app

    else:
        from whitenoise import WhiteNoise

        def build():
            return WhiteNoise(None, root=root, prefix="/static/")

    gc.collect()
    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
        app = build()
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return {"tm_peak": peak, "tm_current": current, "files": _count(app)}
    _reset_peak()
    rss0 = _status("VmRSS")
    t0 = time.perf_counter()
    app = build()
    t = time.perf_counter() - t0
    hwm = _status("VmHWM")
    rss1 = _status("VmRSS")
    return {"time": t, "rss_peak": hwm - rss0, "rss_retained": rss1 - rss0, "files": _count(app)}


def _find_index(app):
    for attr in ("index", "_index", "static_index"):
        idx = getattr(app, attr, None)
        if idx is not None and hasattr(idx, "urls"):
            return idx
    for v in vars(app).values():
        if hasattr(v, "urls") and hasattr(v, "lookup"):
            return v
        inner = getattr(v, "index", None)
        if inner is not None and hasattr(inner, "urls"):
            return inner
    raise RuntimeError("cannot find the StaticIndex inside StaticServe")


def _count(app) -> int:
    files = getattr(app, "files", None)
    if isinstance(files, dict):
        return len(files)
    try:
        return len(_find_index(app))
    except RuntimeError:
        return -1


# --------------------------------------------------------------------------- parent


def run_child(contender: str, root: Path, mode: str) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    out = subprocess.run(
        [sys.executable, __file__, "--child", contender, "--root", str(root), "--mode", mode],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{contender} {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def mb(x: float) -> str:
    return f"{x / 1e6:,.1f} MB"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="time", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.root, args.mode)))
        return 0

    t_start = time.monotonic()
    trees = {}
    for n in args.sizes:
        t0 = time.monotonic()
        trees[n] = make_tree(n)
        on_disk = sum(len(f) for _, _, f in os.walk(trees[n]))
        print(f"tree {n}: {trees[n]} ({on_disk} files on disk, {time.monotonic() - t0:.1f}s)")
    samples: dict[tuple[int, str], list[dict]] = {}
    for r in range(args.runs):
        cons = CONTENDERS[r % len(CONTENDERS) :] + CONTENDERS[: r % len(CONTENDERS)]
        for n in args.sizes:
            for c in cons:
                d = run_child(c, trees[n], "time")
                d.update(run_child(c, trees[n], "tracemalloc"))
                samples.setdefault((n, c), []).append(d)
                print(
                    f"run {r + 1} {n:>7} {c:16s} {d['time']:.3f}s  peak RSS +{mb(d['rss_peak'])}"
                    f"  tracemalloc peak {mb(d['tm_peak'])}  ({d['files']} URLs)"
                )

    def med(key, n, c):
        return statistics.median(s[key] for s in samples[(n, c)])

    lines = [
        "# Index benchmark: start-up time and memory\n",
        f"Generated by `python benchmarks/bench_index.py {' '.join(argv or sys.argv[1:])}`".rstrip()
        + f" on {time.strftime('%Y-%m-%d %H:%M %Z')}; median of {args.runs} runs, each in a "
        "fresh subprocess (page cache warm). Python "
        f"{platform.python_version()}, {platform.platform()}.\n",
        "Tree: nested app directories, css/js/png/svg/woff2, ~15% Django-style hashed names, "
        ".br + .gz siblings beside ~35% of css/js/svg. *files* = servable files (siblings "
        "on top). Peak RSS = growth of the resident set's high-water mark during the "
        "constructor; retained = RSS growth that stays; tracemalloc = Python heap, measured "
        "in a separate run. `staticserve` is the adapter constructor (what a server pays at "
        "start: every file vetted, header lists built on first request); `staticserve+all` "
        "also looks every URL up once, building every Resource (what WhiteNoise does eagerly).\n",
        "| files | contender | time (median) | min - max | peak RSS | retained RSS "
        "| tracemalloc peak | tracemalloc retained | retained heap / file |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    summary = {}
    for n in args.sizes:
        for c in CONTENDERS:
            ss = samples[(n, c)]
            times = [s["time"] for s in ss]
            row = {
                "time": med("time", n, c),
                "rss_peak": med("rss_peak", n, c),
                "rss_retained": med("rss_retained", n, c),
                "tm_peak": med("tm_peak", n, c),
                "tm_current": med("tm_current", n, c),
                "urls": ss[0]["files"],
            }
            summary[f"{n}/{c}"] = row
            lines.append(
                f"| {n:,} | {c} | {row['time']:.3f} s | {min(times):.3f} - {max(times):.3f} s "
                f"| {mb(row['rss_peak'])} | {mb(row['rss_retained'])} | {mb(row['tm_peak'])} "
                f"| {mb(row['tm_current'])} | {row['tm_current'] / n:,.0f} B |"
            )
    lines.append("")
    big = max(args.sizes)
    ss, wn = summary.get(f"{big}/staticserve"), summary.get(f"{big}/whitenoise")
    if ss and wn:
        lines += [
            f"## Targets (issue 5), {big:,} files\n",
            "| target | measured | pass |",
            "|---|---:|:---:|",
            f"| index in under 2 s | {ss['time']:.3f} s | {'✅' if ss['time'] < 2 else '❌'} |",
            f"| under 100 MB (peak RSS growth) | {mb(ss['rss_peak'])} "
            f"| {'✅' if ss['rss_peak'] < 100e6 else '❌'} |",
            f"| faster than WhiteNoise's constructor | {wn['time'] / ss['time']:.1f}x faster "
            f"({wn['time']:.3f} s) | {'✅' if ss['time'] < wn['time'] else '❌'} |",
            f"| (eager, every Resource built) faster than WhiteNoise "
            f"| {wn['time'] / summary[f'{big}/staticserve+all']['time']:.1f}x "
            f"({summary[f'{big}/staticserve+all']['time']:.3f} s) "
            f"| {'✅' if summary[f'{big}/staticserve+all']['time'] < wn['time'] else '❌'} |",
            "",
        ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "index.md").write_text("\n".join(lines) + "\n")
    raw = {f"{n}/{c}": v for (n, c), v in samples.items()}
    (args.out / "index.json").write_text(json.dumps({"summary": summary, "samples": raw}, indent=1))
    print("\n".join(lines))
    print(f"wrote {args.out / 'index.md'} in {time.monotonic() - t_start:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
