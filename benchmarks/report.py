"""Aggregate benchmark rows (medians over runs) and render the Markdown report."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

SCENARIO_TITLES = {
    "small_br": "2 KB CSS, br",
    "small_id": "2 KB CSS, identity",
    "js_br": "100 KB JS, br",
    "big": "5 MB file (MB/s)",
    "etag_304": "304 If-None-Match",
    "pass": "pass-through",
    "miss": "404 miss",
}


def base_key(key: str) -> str:
    """``small_br@256`` -> ``small_br``: the scenario without its connection count."""
    return key.split("@", 1)[0]


def connections(key: str) -> int:
    return int(key.split("@", 1)[1]) if "@" in key else 32


def title(key: str) -> str:
    base = SCENARIO_TITLES.get(base_key(key), key)
    return base if "@" not in key else f"{base}, {connections(key)} conns"


def ceiling_key(slot: str) -> str:
    """The bare app's scenario key timed in ``slot``."""
    return "ceiling" if "@" not in slot else f"ceiling@{connections(slot)}"


SERVERS = ["uvicorn", "granian-asgi", "gunicorn", "granian-wsgi", "nginx"]
LIBS = ["bare", "matched", "staticserve", "servestatic", "whitenoise", "starlette", "nginx"]
STATIC_SERVERS = ["uvicorn", "granian-asgi", "gunicorn", "granian-wsgi"]


@dataclass
class Agg:
    contender: str
    library: str
    server: str
    scenario: str
    ok: bool
    note: str
    encoding: str
    value: float  # req/s, or MB/s for the big file
    values: list[float]
    ratio: float = 0.0  # median over runs of value / ceiling measured in the same slot
    matched: float = 0.0  # median over runs of value / header-matched app in the same slot
    cpu_us: float = 0.0  # median server CPU time per request, µs
    cpu_matched: float = 0.0  # median over runs of matched app's CPU/request / this one's

    @property
    def spread(self) -> float:
        if len(self.values) < 2 or not self.value:
            return 0.0
        return (max(self.values) - min(self.values)) / self.value


def aggregate(rows: list[dict]) -> dict[tuple[str, str], Agg]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if r.get("scenario") == "*":
            continue
        groups.setdefault((r["contender"], r["scenario"]), []).append(r)
    ceil_at = {
        (r["server"], r["run"], r.get("slot")): r["rps"]
        for r in rows
        if r.get("library") == "bare" and r.get("timed") and r["ok"]
    }
    matched_at = {
        (r["server"], r["run"], r.get("slot")): r["rps"]
        for r in rows
        if r.get("library") == "matched" and r.get("timed") and r["ok"]
    }
    matched_cpu_at = {
        (r["server"], r["run"], r.get("slot")): r["cpu_us"]
        for r in rows
        if r.get("library") == "matched" and r.get("timed") and r["ok"] and r.get("cpu_us")
    }
    out = {}
    for (con, sc), rs in groups.items():
        timed = [r for r in rs if r.get("timed")]
        ok = all(r["ok"] for r in rs)
        unit = "mbps" if sc == "big" else "rps"
        vals = [r[unit] for r in timed]
        notes = sorted({r["note"] for r in rs if r["note"]})
        encs = sorted({r["encoding"] for r in rs if r.get("encoding")})
        out[(con, sc)] = Agg(
            con,
            rs[0]["library"],
            rs[0]["server"],
            sc,
            ok,
            "; ".join(notes),
            "/".join(encs),
            statistics.median(vals) if vals and ok else 0.0,
            vals,
        )
        ratios = [
            r["rps"] / ceil_at[(r["server"], r["run"], r.get("slot"))]
            for r in timed
            if (r["server"], r["run"], r.get("slot")) in ceil_at
        ]
        if ratios and ok and sc != "big" and not sc.startswith("ceiling"):
            out[(con, sc)].ratio = statistics.median(ratios)
        to_matched = [
            r["rps"] / matched_at[(r["server"], r["run"], r.get("slot"))]
            for r in timed
            if (r["server"], r["run"], r.get("slot")) in matched_at
        ]
        if to_matched and ok and rs[0]["library"] not in ("bare", "matched"):
            out[(con, sc)].matched = statistics.median(to_matched)
        cpus = [r["cpu_us"] for r in timed if r.get("cpu_us")]
        if cpus and ok:
            out[(con, sc)].cpu_us = statistics.median(cpus)
        cpu_ratios = [
            matched_cpu_at[(r["server"], r["run"], r.get("slot"))] / r["cpu_us"]
            for r in timed
            if r.get("cpu_us") and (r["server"], r["run"], r.get("slot")) in matched_cpu_at
        ]
        if cpu_ratios and ok and rs[0]["library"] not in ("bare", "matched"):
            out[(con, sc)].cpu_matched = statistics.median(cpu_ratios)
    return out


def _fmt(v: float, unit: str = "req/s") -> str:
    if unit == "MB/s":
        return f"{v:,.0f}"
    if v >= 10_000:
        return f"{v / 1000:,.1f}k"
    return f"{v:,.0f}"


def _ratio(a: float, b: float) -> str:
    if not a or not b:
        return "—"
    return f"{a / b:.2f}"


def ceiling(agg, server: str) -> float:
    a = agg.get((f"bare@{server}", "ceiling"))
    return a.value if a and a.ok else 0.0


def _order(agg):
    cons = {}
    for a in agg.values():
        cons[a.contender] = (a.server, a.library)
    return sorted(
        cons,
        key=lambda k: (
            SERVERS.index(cons[k][0]) if cons[k][0] in SERVERS else 99,
            LIBS.index(cons[k][1]) if cons[k][1] in LIBS else 99,
        ),
    )


def markdown(meta: dict, agg: dict, rows: list[dict], scen_keys: list[str]) -> str:
    env = meta["env"]
    L: list[str] = []
    w = L.append
    w("# Serving benchmark: staticserve and its peers, side by side\n")
    w(
        f"Generated by `{meta['command'].strip()}` on {meta['date']} "
        f"({meta['elapsed_s'] / 60:.1f} min)."
    )
    conns = " and ".join(f"`-c{n}`" for n in meta.get("connections", [32]))
    w(
        f"{meta['runs']} interleaved run(s) (contender order rotated each run), "
        f"{meta['duration']} s of `wrk -t1` per measurement at {conns} (the 5 MB file: `-c4`), "
        "medians reported. "
        "Server pinned to core 0, wrk to core 1, both on one 2-core machine that other "
        "work may share: treat differences under ~10% as noise.\n"
    )
    w(f"Machine: {env['cpu']}, {env['cores']} cores, {env['platform']}, Python {env['python']}.  ")
    if env.get("fast_path"):
        w(f"staticserve's per-request fast path: {env['fast_path']}.  ")
    vers = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    w(f"Versions: {vers}; {env['nginx']}; {env['wrk']}.\n")
    w("Servers:\n")
    for k, v in env["servers"].items():
        w(f"- **{k}**: `{v}`")
    w("\nRoots (each contender prepared with its own tool):\n")
    for k, v in meta["roots"].items():
        w(f"- {k}: {v}")
    if meta.get("skipped"):
        w("\nNot measured:\n")
        for k, v in meta["skipped"].items():
            w(f"- {k}: {v}")
    w("")

    order = _order(agg)
    cols = [k for k in scen_keys]
    nginx = {sc: agg.get(("nginx", sc)) for sc in cols}

    def cell(con, sc, mode):
        a = agg.get((con, sc))
        if con.startswith("bare@") and base_key(sc) == "pass":
            a = agg.get((con, ceiling_key(sc)))
        if a is None:
            return "—"
        if not a.ok:
            return f"**WRONG**: {a.note}" if mode == "value" else "✗"
        if mode == "value":
            unit = "MB/s" if sc == "big" else "req/s"
            s = _fmt(a.value, unit)
            if base_key(sc) in ("small_br", "js_br") and a.encoding:
                s += f" ({a.encoding})"
            return s
        if mode == "ceiling":
            if sc == "big" or a.library == "bare" or not a.ratio:
                return "—"
            return f"{a.ratio:.2f}"
        if mode == "matched":
            return f"{a.matched:.2f}" if a.matched else "—"
        if mode == "cpu":
            return f"{a.cpu_us:.1f}" if a.cpu_us else "—"
        if mode == "cpu_matched":
            return f"{a.cpu_matched:.2f}" if a.cpu_matched else "—"
        if mode == "nginx":
            n = nginx.get(sc)
            if a.library == "nginx" or n is None or not n.ok:
                return "—"
            return _ratio(a.value, n.value)
        if mode == "spread":
            return f"{a.spread * 100:.0f}%" if len(a.values) > 1 else "—"
        raise ValueError(mode)

    head = "| server | contender | " + " | ".join(title(c) for c in cols) + " |"
    sep = "|---|---|" + "---:|" * len(cols)

    def table(mode, title, blurb):
        w(f"## {title}\n")
        if blurb:
            w(blurb + "\n")
        w(head)
        w(sep)
        for con in order:
            a0 = next(a for a in agg.values() if a.contender == con)
            label = {"bare": "bare app (ceiling)", "matched": "header-matched app"}.get(
                a0.library, a0.library
            )
            w(f"| {a0.server} | {label} | " + " | ".join(cell(con, sc, mode) for sc in cols) + " |")
        w("")

    table(
        "value",
        "Requests per second (median)",
        "req/s, except the 5 MB file in MB/s (10^6 bytes/s). The encoding actually served is in "
        "brackets. The bare app's number (a constant 2 KB body from the same server) is in the "
        "pass-through column: it is the ceiling every ratio below divides by.",
    )
    table(
        "ceiling",
        "Ratio to the same server's bare-app ceiling",
        "1.00 = as fast as the server answering a constant 2 KB body with no middleware at all. "
        "Each run re-measures the ceiling right beside every scenario; the ratio shown is the "
        "median over runs of (contender / ceiling of the same slot), so slow drifts of the "
        "shared machine cancel out. In the pass-through column it is 1 minus the cost of "
        "wrapping the app.",
    )
    table(
        "matched",
        "Ratio to the same server's header-matched app",
        "1.00 = as fast as the same server replaying staticserve's exact answer (status line, "
        "header list, body) from constants after one dict lookup "
        "(`benchmarks/apps/matched_*.py`, recorded by `matched_record.py`): the honest limit "
        "for a response with real headers. Median over runs of (contender / matched app in the "
        "same slot). The pass-through has no header-matched app: its limit is the bare app "
        "(previous table).",
    )
    table(
        "cpu",
        "Server CPU time per request (µs, median)",
        "The server's whole process tree, every thread, from `/proc/PID/task/*/schedstat` "
        "around each wrk run, divided by the requests answered. Unlike req/s it hardly moves "
        "when other work shares the machine.",
    )
    table(
        "cpu_matched",
        "CPU-time ratio to the header-matched app",
        "Median over runs of (matched app's CPU time per request / the contender's) in the same "
        "slot: 1.00 = staticserve's answer costs the server no more CPU than replaying it from "
        "constants. The load-independent twin of the throughput ratio above.",
    )
    table(
        "nginx",
        "Ratio to nginx",
        "Same scenario, nginx with `gzip_static on` (it has no brotli module, so it serves gzip).",
    )
    table("spread", "Run-to-run spread ((max - min) / median)", "")

    t = targets_14(agg, scen_keys)
    if t:
        w("## Issue 14 targets\n")
        w(
            "Small file (br and identity), 304 and 404 at ≥ 0.97 of the header-matched app; the "
            "pass-through at ≥ 0.97 of the bare app; ahead of every peer in every scenario "
            "(median req/s), at each connection count.\n"
        )
        w("| target | server | measured | pass |")
        w("|---|---|---:|:---:|")
        for name, server, measured, ok in t:
            w(f"| {name} | {server} | {measured} | {'✅' if ok else '❌'} |")
        w("")
    t = targets(agg)
    if t:
        w("## Issue 5 targets\n")
        w("| target | server | measured | pass |")
        w("|---|---|---:|:---:|")
        for name, server, measured, ok in t:
            w(f"| {name} | {server} | {measured} | {'✅' if ok else '❌'} |")
        w("")
    wrong = sorted({(r["contender"], r["scenario"], r["note"]) for r in rows if not r["ok"]})
    if wrong:
        w("## Wrong or failed answers (scored 0)\n")
        for con, sc, note in wrong:
            w(f"- {con} / {sc}: {note}")
        w("")
    return "\n".join(L) + "\n"


def targets(agg) -> list[tuple[str, str, str, bool]]:
    out = []
    servers = [s for s in STATIC_SERVERS if (f"staticserve@{s}", "small_br") in agg]

    def v(con, sc):
        a = agg.get((con, sc))
        return a.value if a and a.ok else 0.0

    def ratio(con, sc):
        a = agg.get((con, sc))
        return a.ratio if a and a.ok else 0.0

    for s in servers:
        ss = f"staticserve@{s}"
        for sc, need in (
            ("small_br", 0.9),
            ("small_id", 0.9),
            ("etag_304", 0.9),
            ("miss", 0.9),
            ("js_br", 0.75),
        ):
            r = ratio(ss, sc)
            out.append((f"{SCENARIO_TITLES[sc]} ≥ {need:.0%} of ceiling", s, f"{r:.2f}", r >= need))
        r = ratio(ss, "pass")
        out.append(("pass-through costs < 5%", s, f"cost {(1 - r) * 100:.1f}%", r > 0.95))
        nb = v("nginx", "big")
        need = 0.4 if s == "uvicorn" else 0.8
        r = v(ss, "big") / nb if nb else 0.0
        shown = f"{r:.2f} ({v(ss, 'big'):,.0f} MB/s)" if nb else "nginx not measured"
        out.append((f"5 MB ≥ {need:.0%} of nginx MB/s", s, shown, r >= need))
        r304 = v(ss, "etag_304") / v(ss, "small_br") if v(ss, "small_br") else 0.0
        out.append(("304 ≥ small-file 200 (within 2% noise)", s, f"{r304:.2f}", r304 >= 0.98))
        peers = sorted(
            {
                a.contender
                for a in agg.values()
                if a.server == s and a.library not in ("bare", "staticserve")
            }
        )
        lost = []
        for sc in SCENARIO_TITLES:
            mine = v(ss, sc)
            for p in peers:
                if (p, sc) in agg and v(p, sc) >= mine:
                    lost.append(f"{sc} vs {p.split('@')[0]} ({v(p, sc):,.0f} ≥ {mine:,.0f})")
        out.append(
            ("beats every peer in every scenario", s, "; ".join(lost) if lost else "yes", not lost)
        )
    return out


def targets_14(agg, scen_keys: list[str]) -> list[tuple[str, str, str, bool]]:
    out = []
    servers = [
        s for s in STATIC_SERVERS if any(a.contender == f"staticserve@{s}" for a in agg.values())
    ]
    counts = sorted({connections(k) for k in scen_keys})

    def get(con, sc):
        a = agg.get((con, sc))
        return a if a and a.ok else None

    for s in servers:
        ss = f"staticserve@{s}"
        peers = sorted(
            {
                a.contender
                for a in agg.values()
                if a.server == s and a.library not in ("bare", "matched", "staticserve")
            }
        )
        for n in counts:

            def key(base, n=n):
                return base if n == 32 else f"{base}@{n}"

            for base in ("small_br", "small_id", "etag_304", "miss"):
                a = get(ss, key(base))
                if a is None or not a.matched:
                    continue
                out.append(
                    (
                        f"{title(key(base))} ≥ 0.97 of header-matched",
                        s,
                        f"{a.matched:.2f} (CPU: {a.cpu_matched:.2f})",
                        a.matched >= 0.97,
                    )
                )
            a = get(ss, key("pass"))
            bare = get(f"bare@{s}", ceiling_key(key("pass")))
            if a is not None and a.ratio:
                cpu = bare.cpu_us / a.cpu_us if bare and bare.cpu_us and a.cpu_us else 0.0
                out.append(
                    (
                        f"{title(key('pass'))} ≥ 0.97 of bare",
                        s,
                        f"{a.ratio:.2f} (CPU: {cpu:.2f})",
                        a.ratio >= 0.97,
                    )
                )
            lost, lost_cpu = [], []
            for sc in scen_keys:
                if connections(sc) != n:
                    continue
                mine = get(ss, sc)
                for p in peers:
                    theirs = get(p, sc)
                    if theirs is None:
                        continue
                    peer = p.split("@")[0]
                    if mine is None or theirs.value >= mine.value:
                        ours = mine.value if mine else 0
                        lost.append(f"{sc} vs {peer} ({theirs.value:,.0f} ≥ {ours:,.0f})")
                    if mine and mine.cpu_us and theirs.cpu_us and theirs.cpu_us <= mine.cpu_us:
                        lost_cpu.append(
                            f"{sc} vs {peer} ({theirs.cpu_us:.1f} ≤ {mine.cpu_us:.1f} µs)"
                        )
            out.append(
                (f"ahead of every peer, {n} conns", s, "; ".join(lost) if lost else "yes", not lost)
            )
            out.append(
                (
                    f"less server CPU per request than every peer, {n} conns",
                    s,
                    "; ".join(lost_cpu) if lost_cpu else "yes",
                    not lost_cpu,
                )
            )
    return out
