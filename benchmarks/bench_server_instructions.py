"""Instructions per request on the real servers, counted by valgrind (load-independent).

    python benchmarks/bench_server_instructions.py            # every server, 32 and 256 connections
    python benchmarks/bench_server_instructions.py --only uvicorn --connections 32
    python benchmarks/bench_server_instructions.py --only gunicorn --rounds 5
    python benchmarks/bench_server_instructions.py --scenario miss --lib matched \
        --lib staticserve --lib staticserve-unmarked --lib servestatic --lib whitenoise

``run.py`` measures requests per second, which on a shared VM moves by tens
of percent from one second to the next; ``bench_instructions.py`` counts
instructions, but only for the middleware called in-process. This counts
what a request costs the whole server process tree, HTTP parsing and event
loop included: each contender of ``run.py`` (the same app modules, roots,
scenarios and checks) runs under ``valgrind --tool=callgrind`` while ``wrk``
loads it: counters zeroed, ``wrk`` for 1 s, counters dumped, the same for
3 s, and the cost of a request is the difference of the two counts over the
difference of the two request counts (see :func:`per_request`); a cell is
the median of three such differences.

At equal instructions per cycle, the ratio of two counts is the ratio of the
two contenders' throughput on an otherwise idle core: the reported
``matched / staticserve`` is the load-independent reading of issue 14's
"at least 0.97 of the header-matched app".

``staticserve-unmarked`` is staticserve with ``miss_cache_control=None``,
counted on the miss only: the app's 404 goes out unchanged, as the peers send
it. Two more miss-only contenders, counted when ``--lib`` names them, split
the miss's cost against the replay: ``app-marked`` is the inner app sending
staticserve's marked 404 (its own 404 with ``Cache-Control: no-store``)
itself, served directly (the replay's bytes with the inner app's own
dispatch), and ``staticserve-free-marking`` is staticserve with the marking
off wrapped around that app (the same bytes again, with staticserve's lookup
and pass-on but none of the marking's work)::

    python benchmarks/bench_server_instructions.py --only granian-asgi --scenario miss \
        --lib matched --lib staticserve --lib app-marked --lib staticserve-free-marking

Only one callgrind run may be going on at a time on the machine:
``callgrind_control`` zeroes and dumps every callgrind process it finds.

Writes ``benchmarks/results/server_instructions.md`` (and ``.json``).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run  # noqa: E402

SERVERS = ["uvicorn", "granian-asgi", "gunicorn", "granian-wsgi"]
LIBS = ["bare", "matched", "staticserve", "servestatic", "whitenoise"]
UNMARKED = "staticserve-unmarked"  # miss_cache_control=None: counted on the miss only
APP_MARKED = "app-marked"  # the inner app marking its own 404, served directly
FREE_MARKING = "staticserve-free-marking"  # UNMARKED over APP_MARKED's app
# {library: (the label of its row, its app module with {kind} for "asgi" or "wsgi")}
# for the contenders counted on the miss only.
MISS_ONLY = {
    UNMARKED: ("unmarked", "staticserve_{kind}_unmarked"),
    FREE_MARKING: ("marking free", "staticserve_{kind}_free_marking"),
    APP_MARKED: ("the app's own, marked", "app_marked_{kind}"),
}
ASKED_ONLY = (APP_MARKED, FREE_MARKING)  # not in a run whose --lib does not name them
SCENARIOS = ["small_br", "small_id", "etag_304", "miss", "pass"]
ROUNDS = 3  # differences per cell
SHORT, LONG = 1, 3  # seconds of wrk for the two counts of a difference
MIN_REQUESTS = 300
WIDER = 4  # the windows' factor for a cell too slow or too noisy in SHORT/LONG
MAX_SPREAD = 0.05  # more disagreement than this between differences is too noisy


class CountedServer(run.Server):
    """A run.py server process started under callgrind (forks and execs followed)."""

    def __init__(self, c: run.Contender, opts: run.ServerOptions, logdir: Path, out: Path):
        self.out = out
        super().__init__(c, opts, logdir)

    def launcher(self) -> list[str]:
        return [*run.pin(0),
            "valgrind", "--tool=callgrind", "--trace-children=yes", "--dump-instr=no",
            f"--callgrind-out-file={self.out}/cg.%p", "--vgdb=yes",
        ]  # fmt: skip


def dumps(out: Path) -> set[Path]:
    return set(out.glob("cg.*"))


def counted(out: Path, before: set[Path]) -> int:
    """Instructions in the dumps written since ``before`` (every process of the tree)."""
    total = 0
    for dump in dumps(out) - before:
        match = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        total += int(match[1]) if match else 0
    return total


def control(flag: str) -> None:
    """``callgrind_control -z`` (zero) or ``-d`` (dump) on every callgrind process."""
    subprocess.run(["callgrind_control", flag], capture_output=True, timeout=120, check=False)


def count(srv: CountedServer, sc: run.Scenario, headers: dict[str, str], seconds: int) -> tuple:
    """(instructions, answered requests, the wrk result) of ``seconds`` of load."""
    before = dumps(srv.out)
    control("-z")
    w = run.run_wrk(srv.port, sc, headers, seconds)
    control("-d")
    return counted(srv.out, before), w["requests"], w


def per_request(
    srv: CountedServer, sc: run.Scenario, headers: dict[str, str], rounds: int, scale: int = 1
) -> dict | None:
    """The median over ``rounds`` of (long count - short count) / (their request difference).

    The difference cancels what both counts hold once: the connections'
    set-up and the requests still in flight when wrk stops (up to 256 of a
    few thousand under valgrind). ``scale`` multiplies both windows. None when
    too few requests were answered to count (a contender that reads files in a
    thread crawls under valgrind).
    """
    costs, requests, errors = [], 0, 0
    for _ in range(rounds):
        i1, r1, _ = count(srv, sc, headers, SHORT * scale)
        i2, r2, w = count(srv, sc, headers, LONG * scale)
        if r2 - r1 < MIN_REQUESTS:
            return None
        costs.append((i2 - i1) / (r2 - r1))
        requests += r2
        errors += w["connect"] + w["read"] + w["write"] + w["timeout"]  # a 404 is no error here
    return {"instr": statistics.median(costs), "spread": max(costs) / min(costs) - 1,
            "requests": requests, "errors": errors, "scale": scale}  # fmt: skip


def counted_cell(
    srv: CountedServer, sc: run.Scenario, headers: dict[str, str], rounds: int
) -> dict | None:
    """per_request(), again with windows WIDER times as long when too few were
    answered or its differences disagree by more than MAX_SPREAD.

    gunicorn's threads under valgrind answer 256 connections slowly: in the
    1 s / 3 s windows most of its cells had fewer than MIN_REQUESTS. And at
    256 connections the requests in flight when wrk stops are a tenth of the
    2 s difference on uvicorn, so its short cells spread by 12-55 %; the wider
    windows make that a fortieth. Their count replaces the short one.
    """
    short = per_request(srv, sc, headers, rounds)
    if short is not None and short["spread"] <= MAX_SPREAD:
        return short
    return per_request(srv, sc, headers, rounds, WIDER) or short


def miss_only(cons: list[run.Contender]) -> list[run.Contender]:
    """The MISS_ONLY contenders, on each server staticserve runs on."""
    out = []
    for c in cons:
        if c.library != "staticserve":
            continue
        kind = "wsgi" if c.module.endswith("wsgi") else "asgi"
        for lib, (_, module) in MISS_ONLY.items():
            module = module.format(kind=kind)
            out.append(run.Contender(f"{lib}@{c.server}", lib, c.server, module, c.flavour))
    return out


def counted_in_run(lib: str, asked: list[str]) -> bool:
    """Whether a run given ``--lib`` ``asked`` (none: the default) counts ``lib``."""
    return lib in asked if asked else lib not in ASKED_ONLY


def count_contender(
    c: run.Contender,
    scens: list[run.Scenario],
    matched: dict[str, run.Scenario],
    corp: run.corpus_mod.Corpus,
    logdir: Path,
    rounds: int,
) -> list[dict]:
    """Every cell of ``c`` counted in one server process (started here, stopped after)."""
    rows: list[dict] = []
    out = Path(tempfile.mkdtemp(prefix="cg-"))
    srv = CountedServer(c, run.ServerOptions(), logdir, out)
    try:
        srv.wait_ready(timeout=300)
        for sc in scens:
            timed = run.timed_scenario(c, sc, matched)
            if timed is None or (c.is_bare and run.base_key(sc.key) != "pass"):
                continue  # the bare app is only the pass-through's reference
            if c.library in MISS_ONLY and run.base_key(sc.key) != "miss":
                continue  # the same as staticserve's or the bare app's but on a miss
            chk = run.verify(c, timed, srv.port, corp)
            if not chk.ok:
                print(f"  ! {c.key} {sc.key}: WRONG ({chk.note}), not counted")
                continue
            run.run_wrk(srv.port, timed, chk.wrk_headers, 1)  # warm-up
            r = counted_cell(srv, timed, chk.wrk_headers, rounds)
            if r is None:
                print(f"  ! {c.key} {sc.key}: under {MIN_REQUESTS} requests, not counted")
                continue
            rows.append({"contender": c.key, "library": c.library, "server": c.server,
                         "scenario": sc.key, **r})  # fmt: skip
            window = f"{SHORT * r['scale']}/{LONG * r['scale']} s"
            line = f"{r['instr']:,.0f} instr/request, spread {r['spread']:.1%}, {window}"
            print(f"  {c.key:28s} {sc.key:14s} {line} ({r['requests']} requests, "
                  f"{r['errors']} socket errors)")  # fmt: skip
    except RuntimeError as exc:
        print(f"  ! {c.key}: {exc}")
    finally:
        srv.stop()
        shutil.rmtree(out, ignore_errors=True)
    return rows


def across_processes(counts: list[list[dict]]) -> list[dict]:
    """One row per cell from the rows of several server processes of one contender.

    A new process lays out its objects and hashes its strings anew, which moves
    a count by more than the differences inside one process do: with more than
    one process a cell is the median of the processes' counts, and its spread
    the largest of them over the smallest, minus one.
    """
    if len(counts) == 1:
        return counts[0]
    cells: dict[str, list[dict]] = {}
    for rows in counts:
        for r in rows:
            cells.setdefault(r["scenario"], []).append(r)
    combined = []
    for same in cells.values():
        instrs = [r["instr"] for r in same]
        combined.append({**same[0], "instr": statistics.median(instrs),
                         "spread": max(instrs) / min(instrs) - 1, "processes": len(same),
                         "per_process": instrs, "requests": sum(r["requests"] for r in same),
                         "errors": sum(r["errors"] for r in same),
                         "scale": max(r["scale"] for r in same)})  # fmt: skip
    return combined


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", default=[], choices=SERVERS,
                    help="servers (default: all)")  # fmt: skip
    ap.add_argument("--connections", type=int, nargs="+", default=[32, 256])
    ap.add_argument("--rounds", type=int, default=ROUNDS, help="differences per cell (median)")
    ap.add_argument("--scenario", action="append", default=[], choices=SCENARIOS,
                    help="scenarios (default: all)")  # fmt: skip
    ap.add_argument("--lib", action="append", default=[], choices=[*LIBS, *MISS_ONLY],
                    help=f"libraries (default: all but {', '.join(ASKED_ONLY)})")  # fmt: skip
    ap.add_argument("--processes", type=int, default=1, help="server processes per contender")
    ap.add_argument("--out", type=Path, default=run.RESULTS, help="where the .md and .json go")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    for tool in ("valgrind", "callgrind_control", "wrk"):
        if not shutil.which(tool):
            print(f"{tool} is not installed: apt-get install -y valgrind wrk", file=sys.stderr)
            return 2
    servers = [s for s in SERVERS if not args.only or s in args.only]
    corp = run.corpus_mod.generate_source()
    run.corpus_mod.prepare_roots(corp, ["plain", "servestatic", "staticserve", "whitenoise"])
    scens = [s for s in run.scenarios(corp) if s.key in (args.scenario or SCENARIOS)]
    scens = run.at_connections(scens, args.connections)
    run.matched_record.record(
        scens, run.corpus_mod.ROOTS / "staticserve", run.PREFIX, run.MATCHED_FILE
    )
    matched = run.matched_views(scens)
    cons = [c for c in run.contenders(True, True) if c.server in servers and c.library in LIBS]
    cons += miss_only(cons)
    cons = [c for c in cons if counted_in_run(c.library, args.lib)]
    logdir = run.corpus_mod.WORK / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    rows = []
    t0 = time.monotonic()
    for c in cons:
        counts = [count_contender(c, scens, matched, corp, logdir, args.rounds)
                  for _ in range(args.processes)]  # fmt: skip
        rows += across_processes(counts)
    text = report(rows, scens, args, time.monotonic() - t0)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "server_instructions.md").write_text(text)
    (args.out / "server_instructions.json").write_text(json.dumps(rows, indent=1))
    return 0


def _count(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f}"


def _ratio(ref: float | None, v: float | None) -> str:
    return "-" if v is None or ref is None else f"{ref / v:.3f}"


def report(
    rows: list[dict], scens: list[run.Scenario], args: argparse.Namespace, secs: float
) -> str:
    cell = {(r["server"], r["library"], r["scenario"]): r["instr"] for r in rows}
    spread = {(r["server"], r["library"], r["scenario"]): r["spread"] for r in rows}
    wide = {(r["server"], r["library"], r["scenario"]) for r in rows if r["scale"] > 1}
    cmd = "python benchmarks/bench_server_instructions.py " + " ".join(sys.argv[1:])
    lines = [
        "# CPU instructions per request on real servers (valgrind)\n",
        f"Generated by `{cmd.strip()}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"in {secs / 60:.0f} min: each server under callgrind, loaded by wrk; a cell is the "
        f"median of {args.rounds} differences of a {SHORT} s and a {LONG} s count over the "
        "difference of their answered requests (`spread`: the largest of them over the "
        "smallest, minus one; the larger of staticserve's and the reference's). `*`: "
        f"fewer than {MIN_REQUESTS} requests were answered in those windows, or the "
        f"differences disagreed by more than {MAX_SPREAD:.0%}, so the counts of that cell "
        f"used windows {WIDER} times as long. `-`: not counted (too few "
        "requests in those too). `ratio` is the "
        "reference's count over staticserve's (the header-matched app's; the bare app's for "
        "the pass-through): the throughput ratio at equal instructions per cycle. A peer's "
        "ratio is against the same reference. "
        + (
            f"Each contender ran in {args.processes} server processes, one after another: a "
            "cell is the median of the processes' counts and its `spread` is theirs (a new "
            "process moves a count more than the differences inside one do). "
            if args.processes > 1
            else ""
        )
        + "`unmarked`: staticserve with "
        "`miss_cache_control=None`, whose 404 is the app's own, unchanged, as the peers "
        "send it (the reference still carries `no-store`). `the app's own, marked`: the "
        "inner app sending staticserve's marked 404 itself, served directly; `marking "
        "free`: staticserve with the marking off over that app (both send the reference's "
        "bytes).\n",
    ]
    for server in dict.fromkeys(r["server"] for r in rows):
        lines.append(f"## {server}\n")
        lines.append("| scenario | reference | staticserve | ratio | spread | peer | peer ratio |")
        lines.append("|---|---:|---:|---:|---:|---|---:|")
        for sc in scens:
            ref_lib = "bare" if run.base_key(sc.key) == "pass" else "matched"
            ref = cell.get((server, ref_lib, sc.key))
            peer = next((lib for lib in ("servestatic", "whitenoise")
                         if (server, lib, sc.key) in cell), None)  # fmt: skip
            theirs = cell.get((server, peer, sc.key)) if peer else None
            peer_cell = f"{peer} {_count(theirs)}" if peer else "-"
            rows_of = [("staticserve", sc.key)]
            rows_of += [(lib, f"{sc.key}, {label}") for lib, (label, _) in MISS_ONLY.items()]
            for lib, label in rows_of:
                ours = cell.get((server, lib, sc.key))
                if lib in MISS_ONLY and ours is None:
                    continue  # counted on the miss only, and only when asked for
                spreads = [spread.get((server, one, sc.key)) for one in (ref_lib, lib)]
                worst = "-" if None in spreads else f"{max(spreads):.1%}"
                wider = any((server, one, sc.key) in wide for one in (ref_lib, lib, peer))
                lines.append(f"| {label}{'*' if wider else ''} | {_count(ref)} | {_count(ours)} | "
                             f"{_ratio(ref, ours)} | {worst} | {peer_cell} | "
                             f"{_ratio(ref, theirs)} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
