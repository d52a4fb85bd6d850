"""``staticfiles.json``: Django's manifest (version 1.1) plus per-file facts.

Format::

    {"files": {name: {"content_type": str, "integrity": "sha384-...", "size": int}},
     "hash": "<12 hex>", "paths": {original: hashed}, "version": "1.1",
     "releases": [newest release id, ...]}

Every ``files`` entry also carries ``"encodings": {"br": size, "gzip": size,
"zstd": size}``, the compressed siblings beside the file when the manifest was
written (``{}`` for none): with it, and ``files`` listing every served file,
the server's index starts from the manifest alone and never walks the root.

A hashed file's ``files`` entry also carries ``"release": id``, the newest
kept release using it (see :mod:`staticserve.pipeline.releases`), so files
of earlier releases kept for a rolling deploy are described like the rest.

Django's ``ManifestStaticFilesStorage`` reads only ``paths``, ``hash`` and
``version`` (with ``json.loads``), so it reads this file unchanged. ``hash``
is computed exactly as Django computes it. The file is written with sorted
keys and compact separators, so equal inputs give byte-identical manifests.

Public API::

    MANIFEST_NAME = "staticfiles.json"
    manifest_hash(paths: Mapping[str, str]) -> str
    served_names(root) -> list[str]
    file_entry(path, name) -> dict
    write_manifest(root, paths, files=None, name=MANIFEST_NAME, known=None,
                   releases=None) -> Path
    read_manifest(path) -> Manifest
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import BuildError, read_bytes, write_if_changed

MANIFEST_NAME = "staticfiles.json"
MANIFEST_VERSION = "1.1"
COMPRESSED_SUFFIXES = (".br", ".gz", ".zst")


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest. ``files`` is empty for a plain Django manifest."""

    paths: dict[str, str]
    hash: str
    version: str
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    releases: list[str] = field(default_factory=list)


def manifest_hash(paths: Mapping[str, str]) -> str:
    """The manifest ``hash`` exactly as Django's ``save_manifest`` computes it."""
    payload = json.dumps(sorted(paths.items())).encode()
    return hashlib.md5(payload, usedforsecurity=False).hexdigest()[:12]


def file_entry(path: Path, name: str) -> dict[str, Any]:
    """Size, SRI integrity and Content-Type of one served file."""
    from .hashing import entry_for  # hashing is heavy to import; a no-change build needs none

    return entry_for(name, read_bytes(path))


def served_names(
    root: str | os.PathLike[str], with_siblings: dict[str, set[str]] | None = None
) -> list[str]:
    """Every file under ``root`` the server will serve, as sorted forward-slash names.

    Left out: the manifest, dotfiles and dot-directories (never served), and
    compressed siblings (``x.css.br`` when ``x.css`` exists). ``with_siblings``,
    if given, receives ``name -> {suffix, ...}`` for names with siblings beside them.
    """
    root = Path(root)
    names = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if rel_dir == "." else rel_dir + "/"
        present = set(filenames)
        for f in filenames:
            if f[0] == "." or (prefix == "" and f == MANIFEST_NAME):
                continue  # dotfiles include our temporary files
            if f.endswith(COMPRESSED_SUFFIXES):
                base, ext = os.path.splitext(f)
                if base in present:
                    if with_siblings is not None:
                        with_siblings.setdefault(prefix + base, set()).add(ext)
                    continue
            names.append(prefix + f)
    return sorted(names)


def build_manifest(
    paths: Mapping[str, str],
    files: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, object] | None = None,
    releases: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The manifest as a dict (see the module docstring for the format).

    ``extra`` adds top-level keys (e.g. ``sources``, which ``staticserve find``
    reads); readers ignore keys they do not know, Django's included.
    ``releases`` (newest first) is the release history to record.
    """
    manifest = {
        **(extra or {}),
        "paths": dict(sorted(paths.items())),
        "version": MANIFEST_VERSION,
        "hash": manifest_hash(paths),
        "files": {name: entry for name, entry in sorted((files or {}).items())},
    }
    if releases is not None:
        manifest["releases"] = list(releases)
    return manifest


def dumps(manifest: Mapping[str, Any]) -> bytes:
    """Deterministic encoding: sorted keys, compact, ASCII (as Django's reader expects)."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("ascii")


def write_manifest(
    root: str | os.PathLike[str],
    paths: Mapping[str, str],
    files: Mapping[str, Mapping[str, Any]] | Iterable[str] | None = None,
    name: str = MANIFEST_NAME,
    known: Mapping[str, Mapping[str, Any]] | None = None,
    extra: Mapping[str, object] | None = None,
    releases: Iterable[str] | None = None,
    siblings: Mapping[str, Mapping[str, int]] | None = None,
) -> Path:
    """Write ``root/name`` atomically and return its path.

    ``files`` is either ready-made entries, an iterable of names to describe,
    or None to describe every served file under ``root`` (:func:`served_names`).
    ``known`` supplies entries already computed (``HashResult.entries``) so
    those files are not read again. ``releases`` (newest first) is the
    release history to record. ``siblings`` gives ``{encoding: size}`` for
    names whose siblings the caller knows exactly as they are on disk now.
    """
    root = Path(root)
    if files is None:
        files = served_names(root)
    if not isinstance(files, Mapping):
        known = known or {}
        files = {
            n: known[n] if n in known else file_entry(root.joinpath(*n.split("/")), n)
            for n in files
        }
    # The siblings as they are now, so a server's start-up need not look.
    # ``siblings`` holds the ones the caller just verified (the build cache).
    siblings = siblings or {}
    files = {
        n: {**e, "encodings": dict(siblings[n]) if n in siblings else sibling_sizes(root, n)}
        for n, e in files.items()
    }
    path = root / name
    write_if_changed(path, dumps(build_manifest(paths, files, extra, releases)))
    return path


_SIBLINGS = ((".br", "br"), (".gz", "gzip"), (".zst", "zstd"))


def sibling_sizes(root: Path, name: str) -> dict[str, int]:
    """``{encoding: size}`` of the compressed siblings of ``root/name`` present on disk."""
    base = root.joinpath(*name.split("/"))
    sizes = {}
    for suffix, encoding in _SIBLINGS:
        try:
            st = os.stat(f"{base}{suffix}")
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            sizes[encoding] = st.st_size
    return sizes


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """Parse a manifest (ours or Django's 1.0/1.1); :class:`BuildError` names bad ones."""
    path = Path(path)
    raw = read_bytes(path)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BuildError(f"{path}: not a valid JSON manifest ({exc})") from exc
    if not isinstance(data, dict) or data.get("version") not in ("1.0", "1.1"):
        raise BuildError(
            f"{path}: unsupported manifest version {data.get('version')!r}"
            if isinstance(data, dict)
            else f"{path}: manifest is not an object"
        )
    paths = data.get("paths", {})
    files = data.get("files", {})
    if not isinstance(paths, dict) or not isinstance(files, dict):
        raise BuildError(f"{path}: 'paths' and 'files' must be objects")
    releases = data.get("releases", [])
    if not isinstance(releases, list) or not all(isinstance(r, str) for r in releases):
        raise BuildError(f"{path}: 'releases' must be a list of release ids")
    return Manifest(
        paths=paths,
        hash=data.get("hash", ""),
        version=data["version"],
        files=files,
        releases=releases,
    )
