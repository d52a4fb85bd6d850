"""Release history: keep the hashed files of the last N builds, prune older ones.

During a rolling deploy old and new replicas answer side by side, and pages
rendered by either (or cached by a CDN or a browser) ask for the hashed names
of *their* release. So a build over a root that holds earlier builds keeps
the hashed files of the last ``keep`` releases (this one included) and
deletes only hashed files older than that.

A release is identified by its manifest ``hash`` (Django's hash of
``paths``): it depends only on the content, so a clean build is
deterministic and rebuilding the same sources is the same release.

What the manifest records (``staticfiles.json``)::

    "releases": ["<newest id>", "<older id>", ...]    # kept, newest first
    "files": {"css/a.1234567890ab.css": {..., "release": "<id>"}, ...}

Every *hashed* file of a kept release has a ``files`` entry whose
``release`` is the newest kept release that uses it. Originals and files
the user put into the root have no ``release`` key and are never pruned.

Safety: only names recorded as hashed outputs of an earlier release are
ever deleted, never a name the current build serves, never a path outside
the root; an unreadable previous manifest prunes nothing. The caller writes
new files first, switches the manifest atomically, and prunes last, so an
interrupted build leaves the previous release fully servable.

Public API::

    DEFAULT_KEEP = 3
    History, load_history(root, name=MANIFEST_NAME) -> tuple[History, list[BuildWarning]]
    ReleasePlan, plan_release(history, paths, files, keep=DEFAULT_KEEP, present=None)
    prune(root, names) -> list[str]
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import BuildError, BuildWarning, read_bytes
from .manifest import MANIFEST_NAME, manifest_hash

DEFAULT_KEEP = 3
RELEASE_KEY = "release"
RELEASES_KEY = "releases"
_SIBLINGS = (".br", ".gz", ".zst")


@dataclass
class History:
    """What the previous manifest says about earlier releases.

    ``releases`` are ids, newest first; ``hashed`` maps each hashed file of
    those releases to the newest release using it; ``entries`` holds their
    previous ``files`` entries (reused, so old files are not read again).
    """

    releases: list[str] = field(default_factory=list)
    hashed: dict[str, str] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every ``files`` entry of the previous manifest (the build cache reuses them).
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ReleasePlan:
    """The manifest content of a new release and the files it retires."""

    release: str
    releases: list[str]
    files: dict[str, Mapping[str, Any]]
    prune: list[str]


def safe_name(name: object) -> bool:
    """Whether ``name`` is a plain relative forward-slash path inside a root."""
    if not isinstance(name, str) or not name or "\\" in name:
        return False
    # "/." catches ".", ".." and dot-names; "//" an empty part (or a leading "/").
    padded = f"/{name}/"
    return "/." not in padded and "//" not in padded


def history_from(data: object) -> History:
    """The release history in a parsed manifest (ours, an older one, or Django's)."""
    if not isinstance(data, dict):
        return History()
    paths = data.get("paths")
    files = data.get("files")
    paths = paths if isinstance(paths, dict) else {}
    files = files if isinstance(files, dict) else {}
    entries = {n: e for n, e in files.items() if safe_name(n) and isinstance(e, dict)}
    releases = data.get(RELEASES_KEY)
    if isinstance(releases, list) and releases and all(isinstance(r, str) for r in releases):
        known = set(releases)
        hashed = {n: e[RELEASE_KEY] for n, e in entries.items() if e.get(RELEASE_KEY) in known}
        return History(list(releases), hashed, {n: entries[n] for n in hashed}, entries)
    # A manifest without history (Django's, or a staticserve build before
    # releases existed) is one release: the hashed names its paths list.
    hashed_names = [v for v in paths.values() if safe_name(v)]
    if not hashed_names:
        return History(files=entries)
    release = data.get("hash")
    if not isinstance(release, str) or not release:
        release = manifest_hash({str(k): str(v) for k, v in paths.items()})
    return History(
        [release],
        {n: release for n in hashed_names},
        {n: entries[n] for n in hashed_names if n in entries},
        entries,
    )


def load_history(
    root: str | os.PathLike[str], name: str = MANIFEST_NAME
) -> tuple[History, list[BuildWarning]]:
    """Read the history from ``root/name``; a missing manifest is an empty history.

    An unreadable or corrupt manifest gives an empty history (so nothing is
    pruned) and a warning saying so.
    """
    path = Path(root) / name
    if not path.exists():
        return History(), []
    try:
        data = json.loads(read_bytes(path).decode("utf-8"))
    except (BuildError, UnicodeDecodeError, ValueError) as exc:
        return History(), [
            BuildWarning(
                str(path),
                None,
                f"previous manifest unreadable ({exc}); earlier releases are kept, none pruned",
            )
        ]
    return history_from(data), []


def plan_release(
    history: History,
    paths: Mapping[str, str],
    files: Mapping[str, Mapping[str, Any]],
    keep: int = DEFAULT_KEEP,
    present: Iterable[str] | None = None,
) -> ReleasePlan:
    """Combine this build's ``paths`` / ``files`` with the history, keeping ``keep`` releases.

    ``files`` are the entries of what this build serves; an entry for an
    earlier release's hashed file may be included (it gets its ``release``
    back) or left out (its previous entry is reused if the file is kept).
    ``present`` (the names on disk, when known) drops kept files that are gone.
    """
    if keep < 1:
        raise BuildError(f"keep must be at least 1 (this release), got {keep}")
    release = manifest_hash(paths)
    releases = [release, *(r for r in history.releases if r != release)][:keep]
    kept = set(releases)
    current = set(paths.values())
    ours = current | set(paths)
    # Copy only the entries that change (most are passed through as they are).
    out: dict[str, Mapping[str, Any]] = {
        n: {k: v for k, v in e.items() if k != RELEASE_KEY} if RELEASE_KEY in e else e
        for n, e in files.items()
    }
    for name in current:
        if name in out:
            out[name] = {**out[name], RELEASE_KEY: release}
    on_disk = None if present is None else set(present)
    prune = []
    for name, rel in sorted(history.hashed.items()):
        if name in ours:
            continue  # served by this release (as a hashed name or an original)
        if rel in kept:
            if on_disk is not None and name not in on_disk:
                out.pop(name, None)
                continue  # deleted by hand since: nothing to keep or prune
            entry = out.get(name) or {
                k: v for k, v in history.entries.get(name, {}).items() if k != RELEASE_KEY
            }
            if entry:
                out[name] = {**entry, RELEASE_KEY: rel}
        else:
            out.pop(name, None)
            prune.append(name)
    return ReleasePlan(release, releases, dict(sorted(out.items())), prune)


def prune(root: str | os.PathLike[str], names: Iterable[str]) -> list[str]:
    """Delete the hashed files ``names`` and their compressed siblings; returns what went.

    Directories emptied by this are removed too (never ``root``). Names that
    are not plain relative paths are refused, never followed.
    """
    root = Path(root)
    removed = []
    dirs = set()
    for name in names:
        if not safe_name(name):
            continue
        path = root.joinpath(*name.split("/"))
        for candidate in (path, *(path.with_name(path.name + s) for s in _SIBLINGS)):
            with contextlib.suppress(FileNotFoundError):
                if candidate.is_dir() and not candidate.is_symlink():
                    continue  # a directory is never one of our hashed files
                os.unlink(candidate)
                if candidate == path:
                    removed.append(name)
        dirs.add(path.parent)
    for directory in sorted(dirs, key=lambda d: len(d.parts), reverse=True):
        while directory != root and root in directory.parents:
            try:
                os.rmdir(directory)
            except OSError:
                break  # not empty (or not ours to remove): stop climbing
            directory = directory.parent
    return removed
