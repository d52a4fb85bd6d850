"""The no-change fast path of ``staticserve build``: one stamp for a whole build.

A rebuild with nothing changed should cost a look at the files, not a build.
At the end of a build the CLI records a *stamp* in the build cache: a digest
of its inputs (the settings, the code of the pipeline, and the stat
signature of every collected source) and a digest of its output (the stat
signature of every file in the root). The next build computes both again
before doing anything else; if they are equal, the root is exactly what this
build would write, and it stops there: nothing is read, hashed, compressed or
written, and the warnings of the recorded build are repeated.

The stat signature of a file is ``(size, mtime_ns, inode, ctime_ns)``, as
git's index uses it. Size and mtime alone miss an edit that keeps both (a
same-size edit within the file system's timestamp granularity, a restored
mtime: ``touch -d``, ``cp -p``, ``rsync -t``, ``tar x``); such an edit still
sets the ctime (the kernel sets it on every change and it cannot be set by
hand), and a file replaced by a rename gets a new inode. The rule is:

* a stat signature that differs means "changed" (the file then goes through
  the normal, content-based build cache: a touched file costs a re-hash);
* an equal signature means "unchanged", except for a *racy* source, one whose
  mtime or ctime is less than :data:`RACY_NS` (2 s, the coarsest timestamp
  granularity of common file systems) before the build started: a second
  edit within the same timestamp tick would leave the signature as it was.
  For those the stamp keeps the content digest of the copy the build used,
  and the next build compares the source's content with it (git's "racily
  clean" entries).

The output root is the build's own: a file in it changed after the build
shows in its signature (its ctime moves), except a change within the same
timestamp tick as the build's own last write to that file.

Public API::

    STAMP_KEY = "stamp"
    Inputs, input_signature(settings, files, started_ns) -> Inputs
    root_signature(root) -> str
    make_stamp(root, inputs, link, served, collected, warnings) -> dict | None
    read_stamp(root) -> dict | None
    up_to_date(root, stamp, inputs) -> bool
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import BuildError, read_bytes

STAMP_KEY = "stamp"
CACHE_NAME = ".staticserve-cache.json"  # the same file as cache.CACHE_NAME
#: A source changed less than this before the build started is checked by content.
RACY_NS = 2_000_000_000
_HERE = Path(__file__).resolve().parent
_PREFIX = '{"' + STAMP_KEY + '":'


@dataclass
class Inputs:
    """What a build was given: its digest, and the sources too recent to trust by stat."""

    digest: str
    racy: list[str] = field(default_factory=list)
    files: Mapping[str, Path] = field(default_factory=dict)


def _code_digest() -> str:
    """The pipeline's own code: another version may build differently from the same input."""
    h = hashlib.sha256()
    for module in sorted(_HERE.glob("*.py")):
        h.update(module.name.encode())
        h.update(module.read_bytes())
    h.update((_HERE.parent / "media_types.py").read_bytes())
    return h.hexdigest()


def input_signature(
    settings: Mapping[str, object], files: Mapping[str, Path], started_ns: int
) -> Inputs:
    """The digest of the settings, the code and every source's name, path and stat signature.

    ``files`` maps collected names to source paths (as :func:`find_files`
    returns them); ``started_ns`` is the wall-clock time before they were listed.
    """
    parts = [json.dumps(settings, sort_keys=True, default=str), _code_digest()]
    racy = []
    recent = started_ns - RACY_NS
    for name, path in files.items():
        try:
            st = os.stat(path)
        except OSError:
            parts.append(f"{name}\0{path}\0-")
            continue
        parts.append(
            f"{name}\0{path}\0{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_dev}:"
            f"{st.st_ctime_ns}:{st.st_mode}"
        )
        if st.st_mtime_ns >= recent or st.st_ctime_ns >= recent:
            racy.append(name)
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return Inputs(digest, racy, files)


def root_signature(root: Path) -> str:
    """The digest of every non-dot file under ``root`` (names and stat signatures)."""
    parts: list[str] = []

    def walk(directory: str, prefix: str) -> None:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            name = entry.name
            if name[0] == ".":
                continue  # never served: the cache, temporary files, dotfiles
            rel = prefix + name
            # Symlinks are followed, as the build and the index follow them.
            st = os.stat(entry.path)
            link = ""
            if entry.is_symlink():
                lst = os.lstat(entry.path)
                link = f"@{lst.st_ino}:{lst.st_ctime_ns}"
            if entry.is_dir():
                parts.append(f"{rel}/{link}")
                walk(entry.path, rel + "/")
            else:
                parts.append(
                    f"{rel}\0{st.st_size}:{st.st_mtime_ns}:{st.st_ino}:{st.st_dev}:"
                    f"{st.st_ctime_ns}:{st.st_mode}{link}"
                )

    try:
        walk(str(root), "")
    except OSError:
        return "-"  # an unreadable root is never up to date
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _content(path: Path) -> str:
    return hashlib.blake2b(read_bytes(path), digest_size=16).hexdigest()


def make_stamp(
    root: Path,
    inputs: Inputs,
    link: bool,
    served: int,
    collected: int,
    warnings: Sequence[str],
) -> dict[str, Any] | None:
    """The stamp of the build that just wrote ``root``; None if it cannot vouch for it.

    Call it after the last write to the root except the cache's own.
    """
    racy = {}
    for name in inputs.racy:
        copy = root.joinpath(*name.split("/"))
        if link or not copy.is_file() or copy.is_symlink():
            return None  # no copy of what the build read: the next build looks again
        racy[name] = _content(copy)
    return {
        "inputs": inputs.digest,
        "outputs": root_signature(root),
        "racy": racy,
        "served": served,
        "collected": collected,
        "warnings": list(warnings),
    }


def read_stamp(root: Path) -> dict[str, Any] | None:
    """The stamp at the start of ``root``'s build cache, without parsing the rest of it."""
    try:
        with open(root / CACHE_NAME, "rb") as f:
            head = f.read(len(_PREFIX))
            if head.decode("ascii", "replace") != _PREFIX:
                return None
            text = (head + f.read()).decode("utf-8")
        stamp, _ = json.JSONDecoder().raw_decode(text, len(_PREFIX))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return stamp if _valid(stamp) else None


def _valid(stamp: object) -> bool:
    if not isinstance(stamp, dict):
        return False
    racy, warnings = stamp.get("racy"), stamp.get("warnings")
    return (
        isinstance(stamp.get("inputs"), str)
        and isinstance(stamp.get("outputs"), str)
        and type(stamp.get("served")) is int
        and type(stamp.get("collected")) is int
        and isinstance(racy, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in racy.items())
        and isinstance(warnings, list)
        and all(isinstance(w, str) for w in warnings)
    )


def up_to_date(root: Path, stamp: Mapping[str, Any], inputs: Inputs) -> bool:
    """Whether ``root`` is exactly what a build of ``inputs`` would write."""
    if stamp["inputs"] != inputs.digest:
        return False
    for name, digest in stamp["racy"].items():
        path = inputs.files.get(name)
        try:
            if path is None or _content(path) != digest:
                return False
        except BuildError:  # vanished or unreadable: the build says what is wrong
            return False
    return bool(stamp["outputs"] == root_signature(root))
