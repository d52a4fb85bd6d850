"""Benchmark corpus: generate the source files once, then prepare one root per contender.

Every contender serves the same source bytes.  Each one gets its own copy of the
root, prepared with its own tool, so that no contender sees another's sidecar
files:

* ``plain``       - sources only (Starlette ``StaticFiles`` has no precompression).
* ``whitenoise``  - ``python -m whitenoise.compress`` (.gz + .br).
* ``servestatic`` - ``python -m servestatic.compress`` (.gz + .br + .zstd).
* ``nginx``       - .gz siblings for ``gzip_static on`` (gzip -9, mtime 0).
* ``staticserve`` - .br / .gz siblings written by staticserve's own compressor
  (the one ``staticserve build`` runs): brotli quality 11, gzip -9 mtime 0.

Everything is deterministic (seeded generators, gzip mtime 0), so two runs on
two machines serve byte-identical files.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
SOURCE = WORK / "source"
ROOTS = WORK / "roots"
STAMP_VERSION = "corpus-v2"

# URL paths used by the scenarios (relative to the /static/ prefix).
SMALL_CSS = "css/site.css"
MEDIUM_JS = "js/app.js"
BIG_FILE = "media/video.mp4"
IMAGE = "img/photo.jpg"
MISSING = "css/missing.css"
BIG_SIZE = 5 * 1024 * 1024


@dataclass(frozen=True)
class Corpus:
    source: Path
    hashed_js: str  # e.g. "js/app.3f2a1b9c8d7e.js"

    def root(self, flavour: str) -> Path:
        return ROOTS / flavour

    def data(self, rel: str) -> bytes:
        return (self.source / rel).read_bytes()


def _css(rng: random.Random, target: int) -> bytes:
    props = [
        "color: #%06x;",
        "background: #%06x;",
        "margin: %dpx;",
        "padding: %dpx %dpx;",
        "font-size: %drem;",
        "border: 1px solid #%06x;",
        "line-height: 1.%d;",
        "z-index: %d;",
    ]
    names = ["header", "nav", "card", "btn", "footer", "grid", "list", "modal", "hero", "tag"]
    out: list[str] = ["/* site.css - benchmark corpus */\n"]
    size = len(out[0])
    while size < target:
        sel = f".{rng.choice(names)}-{rng.choice(names)}"
        if rng.random() < 0.3:
            sel += f" > .{rng.choice(names)}"
        body = []
        for _ in range(rng.randint(2, 5)):
            p = rng.choice(props)
            n = p.count("%")
            body.append("  " + p % tuple(rng.randint(0, 0xFFFFFF) for _ in range(n)))
        block = sel + " {\n" + "\n".join(body) + "\n}\n"
        out.append(block)
        size += len(block)
    return "".join(out).encode()[:target]


def _js(rng: random.Random, target: int) -> bytes:
    words = [
        "render",
        "state",
        "props",
        "element",
        "update",
        "fetch",
        "value",
        "handler",
        "config",
        "result",
        "node",
        "index",
        "options",
        "callback",
    ]
    out: list[str] = ['"use strict";\n']
    size = len(out[0])
    i = 0
    while size < target:
        a, b, c = rng.choice(words), rng.choice(words), rng.choice(words)
        fn = (
            f"function {a}{i}({b}, {c}) {{\n"
            f"  const {a} = {b}.{c} || {rng.randint(0, 10_000)};\n"
            f"  if ({a} > {rng.randint(0, 500)}) {{ return {c}({a}, '{b}-{i}'); }}\n"
            f"  return {b}.map((x) => x * {rng.randint(2, 9)} + {a});\n"
            "}\n"
        )
        out.append(fn)
        size += len(fn)
        i += 1
    return "".join(out).encode()[:target]


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _django_admin_static() -> Path | None:
    try:
        import django
    except ImportError:
        return None
    p = Path(django.__file__).parent / "contrib" / "admin" / "static"
    return p if p.is_dir() else None


def generate_source(source: Path = SOURCE) -> Corpus:
    """(Re)generate the source tree if its stamp is missing or stale."""
    stamp = source / ".stamp"
    hashed_js_file = source / ".hashed"
    if stamp.exists() and stamp.read_text() == STAMP_VERSION and hashed_js_file.exists():
        return Corpus(source, hashed_js_file.read_text())
    if source.exists():
        shutil.rmtree(source)
    rng = random.Random(20240505)
    _write(source / SMALL_CSS, _css(rng, 2 * 1024))
    _write(source / MEDIUM_JS, _js(rng, 100 * 1024))
    _write(source / BIG_FILE, rng.randbytes(BIG_SIZE))
    # an "image": incompressible bytes behind a JPEG magic number
    _write(source / IMAGE, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(60 * 1024))
    hashed_body = _js(rng, 12 * 1024)
    digest = hashlib.md5(hashed_body).hexdigest()[:12]
    hashed = f"js/app.{digest}.js"
    _write(source / hashed, hashed_body)
    admin = _django_admin_static()
    if admin is not None:
        shutil.copytree(admin, source, dirs_exist_ok=True)
    hashed_js_file.write_text(hashed)
    stamp.write_text(STAMP_VERSION)
    return Corpus(source, hashed)


def _copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".stamp", ".hashed"))


NO_COMPRESS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".woff", ".woff2", ".zip", ".gz"}


def _files(root: Path):
    for dirpath, _dirs, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            if p.suffix in NO_COMPRESS or p.suffix in {".br", ".zst", ".zstd"}:
                continue
            yield p


def _gzip(data: bytes) -> bytes:
    # Same bytes as WhiteNoise's compressor: GzipFile, level 9, mtime 0, no name.
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def write_siblings(root: Path, *, br: bool = True, gz: bool = True) -> None:
    """Write .br/.gz siblings the way WhiteNoise does (kept only if smaller)."""
    import brotli

    for p in list(_files(root)):
        data = p.read_bytes()
        if gz:
            z = _gzip(data)
            if data and len(z) <= len(data) * 0.95:  # WhiteNoise's "worth it" rule
                p.with_name(p.name + ".gz").write_bytes(z)
        if br:
            b = brotli.compress(data)
            if data and len(b) <= len(data) * 0.95:
                p.with_name(p.name + ".br").write_bytes(b)


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def prepare_roots(corpus: Corpus, flavours: list[str], *, log=print) -> dict[str, str]:
    """Prepare one root per flavour; returns a note per flavour on how it was prepared."""
    notes: dict[str, str] = {}
    stamp_src = (corpus.source / ".stamp").read_text()
    for flavour in flavours:
        dst = ROOTS / flavour
        stamp = ROOTS / f".{flavour}.stamp"
        if stamp.exists() and stamp.read_text() == stamp_src and dst.exists():
            notes[flavour] = stamp.with_suffix(".note").read_text()
            continue
        log(f"  preparing root for {flavour} ...")
        _copy_tree(corpus.source, dst)
        if flavour == "plain":
            note = "source files only"
        elif flavour == "whitenoise":
            _run([sys.executable, "-m", "whitenoise.compress", "-q", str(dst)])
            note = "python -m whitenoise.compress (gzip + brotli)"
        elif flavour == "servestatic":
            _run([sys.executable, "-m", "servestatic.compress", "-q", str(dst)])
            note = "python -m servestatic.compress (gzip + brotli + zstd)"
        elif flavour == "nginx":
            write_siblings(dst, br=False, gz=True)
            note = ".gz siblings (gzip -9, mtime 0) for gzip_static on"
        elif flavour == "staticserve":
            note = _prepare_staticserve(dst)
        else:
            raise ValueError(flavour)
        stamp.with_suffix(".note").write_text(note)
        stamp.write_text(stamp_src)
        notes[flavour] = note
    return notes


def _prepare_staticserve(dst: Path) -> str:
    """Use staticserve's own compressor (``staticserve build``'s), limited to br + gzip.

    Only br and gzip so that staticserve has the same variants as WhiteNoise (the
    benchmark sends ``Accept-Encoding: br, gzip``).  Falls back to writing the same
    bytes directly while the build module does not exist.
    """
    try:
        from staticserve.pipeline.compress import compress_tree
    except ImportError:
        compress_tree = None
    if compress_tree is not None:
        compress_tree(dst, encodings=("br", "gzip"), workers=1)
        return (
            "staticserve.pipeline.compress.compress_tree(encodings=br,gzip) (= staticserve build)"
        )
    write_siblings(dst, br=True, gz=True)
    return "brotli q11 + gzip -9 mtime 0 siblings written by benchmarks/corpus.py"


if __name__ == "__main__":
    c = generate_source()
    print(prepare_roots(c, ["plain", "whitenoise", "servestatic", "nginx", "staticserve"]))
