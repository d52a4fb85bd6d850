"""Hand-rolled SVG bar chart of the serving benchmark (no dependency)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from report import LIBS, SERVERS, base_key, ceiling_key, title

COLOURS = {
    "staticserve": "#2a9d4b",
    "servestatic": "#e0a030",
    "whitenoise": "#3d7cc9",
    "starlette": "#9b59b6",
    "nginx": "#555555",
    "bare": "#bbbbbb",
    "matched": "#dddddd",
}
SERVER_SHORT = {
    "uvicorn": "uvicorn",
    "granian-asgi": "granian asgi",
    "gunicorn": "gunicorn",
    "granian-wsgi": "granian wsgi",
    "nginx": "",
}


def _fmt(v: float, unit: str) -> str:
    if unit == "MB/s":
        return f"{v:,.0f} MB/s"
    return f"{v / 1000:,.1f}k" if v >= 1000 else f"{v:,.0f}"


def svg(agg: dict, scens, meta: dict) -> str:
    col_w, label_w, bar_h, gap = 560, 190, 14, 3
    panels = []
    for sc in scens:
        bars = []
        for a in agg.values():
            key = a.scenario
            if a.library == "bare":
                if base_key(sc.key) != "pass" or key != ceiling_key(sc.key):
                    continue
            elif key != sc.key:
                continue
            bars.append(a)
        bars.sort(
            key=lambda a: (
                SERVERS.index(a.server) if a.server in SERVERS else 99,
                LIBS.index(a.library) if a.library in LIBS else 99,
            )
        )
        if bars:
            panels.append((sc, bars))
    heights = [40 + len(b) * (bar_h + gap) for _, b in panels]
    ncols = 2
    col_heights = [0] * ncols
    placed = []
    for (sc, bars), h in zip(panels, heights, strict=True):
        c = col_heights.index(min(col_heights))
        placed.append((sc, bars, c * col_w, col_heights[c]))
        col_heights[c] += h + 10
    top = 60
    width = ncols * col_w + 20
    height = top + max(col_heights or [0]) + 30
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="11">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        '<text x="10" y="22" font-size="16" font-weight="bold">staticserve vs peers: median '
        "requests/s (5 MB file: MB/s), one server core</text>",
        f'<text x="10" y="40" fill="#666">{escape(meta["date"])} · {meta["runs"]} interleaved '
        f"runs x {meta['duration']} s · grey = bare-app ceiling, light grey = header-matched "
        "app on the same server · "
        "red = wrong answer (scored 0)</text>",
    ]
    lx = 10
    for lib in LIBS:
        out.append(
            f'<rect x="{width - 640 + lx}" y="48" width="10" height="10" fill="{COLOURS[lib]}"/>'
        )
        out.append(f'<text x="{width - 640 + lx + 14}" y="57">{lib}</text>')
        lx += 85
    for sc, bars, x0, y0 in placed:
        y = top + y0
        out.append(
            f'<text x="{x0 + 10}" y="{y + 14}" font-size="13" font-weight="bold">'
            f"{escape(title(sc.key))}</text>"
        )
        vmax = max((a.value for a in bars), default=1.0) or 1.0
        span = col_w - label_w - 80
        yb = y + 26
        for a in bars:
            label = f"{SERVER_SHORT.get(a.server, a.server)} · {a.library}".strip(" ·")
            if a.library == "bare":
                label = f"{SERVER_SHORT.get(a.server, a.server)} · bare ceiling"
            elif a.library == "matched":
                label = f"{SERVER_SHORT.get(a.server, a.server)} · header-matched"
            out.append(
                f'<text x="{x0 + label_w}" y="{yb + bar_h - 3}" text-anchor="end">'
                f"{escape(label)}</text>"
            )
            if not a.ok:
                out.append(
                    f'<text x="{x0 + label_w + 6}" y="{yb + bar_h - 3}" fill="#c0392b" '
                    f'font-weight="bold">WRONG: {escape(a.note[:60])}</text>'
                )
            else:
                bw = max(1.0, span * a.value / vmax)
                out.append(
                    f'<rect x="{x0 + label_w + 6}" y="{yb}" width="{bw:.1f}" height="{bar_h}" '
                    f'fill="{COLOURS.get(a.library, "#888")}"/>'
                )
                unit = "MB/s" if sc.key == "big" else "req/s"
                out.append(
                    f'<text x="{x0 + label_w + 10 + bw:.1f}" y="{yb + bar_h - 3}">'
                    f"{_fmt(a.value, unit)}</text>"
                )
            yb += bar_h + gap
    out.append("</svg>")
    return "\n".join(out) + "\n"
