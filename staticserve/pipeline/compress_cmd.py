"""``staticserve compress DIR``: write compressed siblings in place (``whitenoise.compress``).

For a directory that is already the served root (a WhiteNoise user's
``python -m whitenoise.compress DIR``, a bundler's output): every served file
gets ``.br`` / ``.gz`` / ``.zst`` siblings beside it, each carrying its
original's mtime, so running it again skips what is up to date. Nothing is
renamed, hashed or deleted except a stale sibling that no longer saves bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

from ..media_types import extension_of
from ._files import BuildError
from .cli import fraction
from .compress import available_encodings, compress_tree
from .manifest import served_names


def add_compress_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``compress`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "compress",
        help="write .br/.gz/.zst siblings of the files in a directory, in place",
        description="Compress every served file under DIR in place (as `python -m "
        "whitenoise.compress DIR`): siblings get their original's mtime, up-to-date ones "
        "are skipped, already-compressed formats are left alone.",
    )
    p.add_argument("root", metavar="DIR", help="directory to compress in place")
    p.add_argument(
        "skip_extensions",
        nargs="*",
        metavar="EXTENSION",
        help="extra extensions not to compress, e.g. `map txt` (as whitenoise.compress's "
        "positional EXTENSIONS; already-compressed formats are always skipped)",
    )
    p.add_argument(
        "--encodings",
        default=None,
        help="comma-separated encodings (default: every available one: "
        f"{','.join(available_encodings())})",
    )
    p.add_argument("--no-gzip", action="store_true", help="write no .gz siblings")
    p.add_argument("--no-brotli", action="store_true", help="write no .br siblings")
    p.add_argument(
        "--min-saving",
        type=fraction,
        default=0.05,
        help="keep a sibling only if it saves this fraction, e.g. 0.1 or 10%% (default 0.05)",
    )
    p.add_argument("--workers", type=int, default=None, help="processes (default: CPU count)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.set_defaults(func=run_compress)
    return p


def run_compress(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Compress ``args.root`` in place; 0 on success, 2 if it is not a directory."""
    out = out or sys.stdout
    root = Path(args.root)
    if not root.is_dir():
        print(f"staticserve compress: {root} is not a directory", file=sys.stderr)
        return 2
    encodings = (
        [e.strip() for e in args.encodings.split(",") if e.strip()]
        if args.encodings
        else list(available_encodings())
    )
    drop = {"gzip", "gz"} if args.no_gzip else set()
    drop |= {"br", "brotli"} if args.no_brotli else set()
    encodings = [e for e in encodings if e.lower() not in drop]
    skip = {e if e.startswith(".") else "." + e for e in (x.lower() for x in args.skip_extensions)}
    names = [n for n in served_names(root) if extension_of(n) not in skip]
    try:
        summary = compress_tree(
            root, names, encodings=encodings, min_saving=args.min_saving, workers=args.workers
        )
    except BuildError as exc:
        print(f"staticserve compress: error: {exc}", file=sys.stderr)
        return 1
    for warning in summary.warnings:
        print(f"staticserve compress: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        print(summary.table(), file=out)
    return 0
