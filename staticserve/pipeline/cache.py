"""The incremental build cache: ``ROOT/.staticserve-cache.json``.

A rebuild should cost what changed, not what exists. Brotli 11 dominates a
build, then reading and hashing every file; the cache lets a rebuild skip
both for everything a change does not reach, and its output stays
byte-identical to a build without it.

What it records, for the root it sits in:

* ``files``: per served name ``[size, mtime_ns, digest, siblings]``: the
  stat its manifest entry describes, a content digest, and per encoding the
  ``[size, mtime_ns]`` of its compressed sibling, or ``0`` when that variant
  was not worth keeping. (The entry itself is the manifest's: the cache is
  tied to that manifest.)
  A name whose file and siblings still have those stats is neither read nor
  recompressed. A file whose content is known under another name (a touched
  or renamed file, Django's rewritten hashed copies) gets its siblings copied
  from that name's, not recompressed.
* ``originals``: per collected name ``[size, mtime_ns, hashed name,
  referenced names, warnings]``. A name is reused when it and its hashed copy
  are unchanged and nothing it references (transitively) changed; a change
  therefore propagates to exactly the files that reference it. When the set
  of names changes (a file added, deleted, renamed), every rewritable file
  (CSS, JS, maps) is rescanned, because references to missing files may now
  resolve (or the reverse).

Trust: a cache is used only if its ``key`` (the build settings, the
compressor versions and the source of the modules that produce output)
matches, and its ``manifest`` digest matches the manifest in the root: a
cache copied from another root, or older than the manifest (a build
interrupted between its manifest switch and its cache write), is ignored
with a warning, as is a corrupt one. So is one whose ``checksum`` (the last
field: a digest of the file's other bytes) is missing or wrong, as after an
edit by hand that kept it valid JSON. Every entry
is checked against the file's stat before use. The cache is a dotfile,
written atomically and last, and never served.

Public API::

    CACHE_NAME = ".staticserve-cache.json"
    settings_key(**settings) -> str
    BuildCache(key), BuildCache.load(root, key, manifest=MANIFEST_NAME) -> LoadedCache
    BuildCache.save(root, served, manifest=MANIFEST_NAME) -> None
    encode(data) -> bytes  # the file's bytes for ``data``, checksum appended
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._files import BuildError, BuildWarning, read_bytes, write_if_changed
from .manifest import MANIFEST_NAME
from .stamp import STAMP_KEY

CACHE_NAME = ".staticserve-cache.json"
# /2: the file ends with its checksum (see encode); a /1 cache is of another format.
FORMAT = "staticserve-build-cache/2"
_SUFFIXES = {"br": ".br", "gzip": ".gz", "zstd": ".zst"}
_HERE = Path(__file__).resolve().parent
# The modules whose code decides the bytes a build writes: a change to any
# of them (an upgrade, a local edit) invalidates every cache.
_OUTPUT_MODULES = (
    _HERE / "_files.py",
    _HERE / "cache.py",
    _HERE / "compress.py",
    _HERE / "hashing.py",
    _HERE / "manifest.py",
    _HERE.parent / "media_types.py",
)

Stat = tuple[int, int]

_CHECKSUM = b',"checksum":"'


def _checksum(body: bytes) -> bytes:
    return hashlib.sha256(body).hexdigest().encode()


def encode(data: Mapping[str, Any]) -> bytes:
    """The cache file's bytes for ``data`` (not empty): its JSON, checksum appended.

    The checksum is a sha256 over the exact bytes of the JSON without it, and
    goes last as ``,"checksum":"HEX"}``, so the file stays one JSON object,
    the stamp stays first (:func:`~staticserve.pipeline.stamp.read_stamp` reads
    only that), and checking it needs no re-serialization (whose bytes could
    differ from the file's): strip the known tail, hash the rest, compare.
    """
    body = json.dumps(data, separators=(",", ":")).encode()
    return body[:-1] + _CHECKSUM + _checksum(body) + b'"}'


def _verified(raw: bytes) -> bool:
    """Whether ``raw`` ends with the checksum of the rest, as :func:`encode` writes it."""
    # JSON escapes every '"' inside a string, so the tail cannot occur in one.
    body, tail, checksum = raw.rpartition(_CHECKSUM)
    return bool(tail) and checksum == _checksum(body + b"}") + b'"}'


def settings_key(**settings: object) -> str:
    """A digest of everything besides the inputs that decides a build's output."""
    h = hashlib.sha256(FORMAT.encode())
    for module in _OUTPUT_MODULES:
        try:
            h.update(module.read_bytes())
        except OSError:  # pragma: no cover - a frozen install: fall back to the version
            from importlib.metadata import version

            h.update(version("staticserve-http").encode())
    versions = {}
    for lib in ("brotli", "zstandard"):
        try:
            versions[lib] = getattr(__import__(lib), "__version__", "?")
        except ImportError:
            versions[lib] = None
    h.update(json.dumps({**settings, **versions}, sort_keys=True, default=str).encode())
    return h.hexdigest()[:32]


def stat_of(path: str | os.PathLike[str]) -> Stat | None:
    """``(size, mtime_ns)`` of a regular file (symlinks followed), None if there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _path(root: Path, name: str) -> str:
    """``root/name`` as a string: building it is most of a no-change rebuild's cost."""
    return f"{root}{os.sep}{name}" if os.sep == "/" else os.path.join(root, *name.split("/"))


def _digest_names(names: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(names).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _manifest_digest(root: Path, manifest: str | None) -> str | None:
    if manifest is None:
        return None
    try:
        return hashlib.sha256((root / manifest).read_bytes()).hexdigest()[:32]
    except OSError:
        return None


@dataclass
class LoadedCache:
    """:meth:`BuildCache.load`'s answer: the cache (empty if unusable) and why."""

    cache: BuildCache
    note: str | None = None  # not used, and why (settings changed): say it
    warning: BuildWarning | None = None  # not used because corrupt or foreign


@dataclass
class Reuse:
    """Originals whose hashed copy is current, with their entries and warnings."""

    paths: dict[str, str] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: dict[str, list[BuildWarning]] = field(default_factory=dict)
    stats: dict[str, Stat | None] = field(default_factory=dict)


class BuildCache:
    """The cache of one root (see the module docstring)."""

    def __init__(
        self,
        key: str,
        files: dict[str, list[Any]] | None = None,
        originals: dict[str, list[Any]] | None = None,
        names: str | None = None,
    ) -> None:
        self.key = key
        self.files: dict[str, list[Any]] = files or {}
        self.originals: dict[str, list[Any]] = originals or {}
        self.names = names
        #: The manifest's ``files`` entries this cache belongs to (see :meth:`use_manifest`).
        self.previous: Mapping[str, Mapping[str, Any]] = {}
        #: Names whose siblings were checked (or written) by this build.
        self.verified: set[str] = set()
        #: The root this cache was loaded from (set by :meth:`load`).
        self.root: Path | None = None
        self._by_digest: dict[str, list[str]] | None = None

    # -- loading and saving ------------------------------------------------

    @classmethod
    def load(
        cls, root: str | os.PathLike[str], key: str, manifest: str | None = MANIFEST_NAME
    ) -> LoadedCache:
        """The cache in ``root``; an empty one (and the reason) when it cannot be trusted."""
        root = Path(root)
        path = root / CACHE_NAME
        empty = cls(key)
        empty.root = root
        if not path.exists():
            return LoadedCache(empty)

        def ignored(why: str) -> LoadedCache:
            return LoadedCache(
                empty, warning=BuildWarning(str(path), None, f"{why}; ignored (full build)")
            )

        try:
            raw = read_bytes(path)
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                return ignored("not a staticserve build cache of this format")
            if not _verified(raw):
                return ignored("build cache is corrupt (checksum missing or wrong: edited?)")
            files, originals = data.get("files"), data.get("originals")
            if not _valid_files(files) or not _valid_originals(originals):
                return ignored("build cache is corrupt (malformed entries)")
        except (BuildError, UnicodeDecodeError, ValueError) as exc:
            return ignored(f"build cache is corrupt ({exc})")
        if data.get("key") != key:
            return LoadedCache(
                empty, note="build cache is for other settings or another version: full build"
            )
        if data.get("manifest") != _manifest_digest(root, manifest):
            return ignored(
                "build cache does not belong to this root's manifest (copied from elsewhere, "
                "or older than it after an interrupted build)"
            )
        names = data.get("names")
        cache = cls(key, files, originals, names if isinstance(names, str) else None)
        cache.root = root
        return LoadedCache(cache)

    def use_manifest(self, files: Mapping[str, Mapping[str, Any]]) -> None:
        """Give the ``files`` entries of the manifest this cache was loaded with."""
        self.previous = files

    def save(
        self,
        root: str | os.PathLike[str],
        served: Iterable[str],
        manifest: str | None = MANIFEST_NAME,
        stamp: Mapping[str, Any] | None = None,
    ) -> None:
        """Write the cache for the names now ``served`` (written last, atomically).

        ``stamp`` (:mod:`staticserve.pipeline.stamp`) goes first in the file, so
        that a no-change rebuild reads it without parsing the rest. A cache
        equal to the one on disk is not rewritten.
        """
        root = Path(root)
        files = self.files
        data = {
            **({STAMP_KEY: stamp} if stamp is not None else {}),
            "format": FORMAT,
            "key": self.key,
            "manifest": _manifest_digest(root, manifest),
            "names": self.names,
            "files": {n: files[n] for n in sorted(served) if n in files},
            "originals": dict(sorted(self.originals.items())),
        }
        write_if_changed(root / CACHE_NAME, encode(data))

    # -- per-file facts ----------------------------------------------------

    def rewritten(self, names: Iterable[str]) -> None:
        """``names`` were written again by collect: their records no longer vouch for them.

        Their stat may still match (a copy keeps the source's size and mtime, and
        a source edited with its mtime restored is caught by its ctime, see
        collect); their content digests and siblings stay usable as donors.
        """
        for name in names:
            for records in (self.files, self.originals):
                record = records.get(name)
                if record is not None:
                    record[0] = -1  # no file has this size

    def mark(self, name: str, stat: Stat) -> None:
        """``name``'s manifest entry, written by this build, describes the file at ``stat``."""
        record = self.files.get(name)
        if record is None or record[0] != stat[0] or record[1] != stat[1]:
            self.files[name] = [stat[0], stat[1], None, None]
            self._by_digest = None

    def entry(self, root: Path, name: str) -> dict[str, Any] | None:
        """The manifest entry recorded for ``name`` if the file is unchanged since."""
        record = self.files.get(name)
        previous = self.previous.get(name)
        if record is None or previous is None:
            return None
        if stat_of(_path(root, name)) != (record[0], record[1]):
            return None
        # As recorded: plan_release and write_manifest replace release and encodings.
        return dict(previous)

    # -- compression -------------------------------------------------------

    def siblings_fresh(self, name: str, encodings: Collection[str]) -> bool:
        """Whether ``name``'s file and compressed siblings are exactly as recorded."""
        record = self.files.get(name)
        if record is None or record[3] is None or self.root is None:
            return False
        base = _path(self.root, name)
        if stat_of(base) != (record[0], record[1]):
            return False
        states = record[3]
        for encoding in encodings:
            state = states.get(encoding)
            sibling = base + _SUFFIXES[encoding]
            if state == 0:
                if os.path.lexists(sibling):
                    return False
            elif state is None or stat_of(sibling) != (state[0], state[1]):
                return False
        self.verified.add(name)
        return True

    def donor(
        self, root: Path, digest: str, encoding: str, prefer: str | None = None
    ) -> Path | int | None:
        """A verified sibling holding ``encoding`` of content ``digest``; 0 = not worth it.

        A sibling is valid while its own stat is as recorded: it holds the
        compression of the content recorded with it, whatever its file became
        since. ``prefer`` (the name being compressed) is tried first, so a
        touched file keeps its own siblings.
        """
        if self._by_digest is None:
            self._by_digest = {}
            for name, record in self.files.items():
                if record[2] is not None and record[3] is not None:
                    self._by_digest.setdefault(record[2], []).append(name)
        candidates = self._by_digest.get(digest, [])
        if prefer in candidates:
            candidates = [prefer, *(n for n in candidates if n != prefer)]
        for name in candidates:
            state = self.files[name][3].get(encoding)
            if state == 0:
                return 0  # content-determined (min_saving is part of the key)
            if state is None:
                continue
            sibling = Path(_path(root, name) + _SUFFIXES[encoding])
            if stat_of(sibling) == (state[0], state[1]):
                return sibling
        return None

    def record_siblings(
        self, path: Path, name: str, digest: str, encodings: Collection[str]
    ) -> None:
        """Record ``name``'s content digest and the stat of each of its siblings."""
        stat = stat_of(path)
        if stat is None:
            return
        base = str(path)
        states: dict[str, object] = {}
        for encoding in encodings:
            sibling = stat_of(base + _SUFFIXES[encoding])
            states[encoding] = 0 if sibling is None else list(sibling)
        self.mark(name, stat)
        self.files[name][2:] = [digest, states]
        self._by_digest = None
        self.verified.add(name)

    def sibling_sizes(self, name: str) -> dict[str, int] | None:
        """``{encoding: size}`` of ``name``'s siblings if this build verified them."""
        if name not in self.verified:
            return None
        return {enc: state[0] for enc, state in self.files[name][3].items() if state != 0}

    # -- hashing -----------------------------------------------------------

    def reusable(self, root: Path, names: list[str], rewritable: Collection[str]) -> Reuse:
        """The originals among ``names`` whose hashed copy needs no work this build.

        ``names`` are the collected names, sorted. Also returns every name's
        stat, taken now (before hashing may delete originals).
        """
        reuse = Reuse()
        names_digest = _digest_names(names)
        same_names = names_digest == self.names
        self.names = names_digest
        dirty = []
        files, previous = self.files, self.previous
        for name in names:
            stat = reuse.stats[name] = stat_of(_path(root, name))
            record = self.originals.get(name)
            if record is None or stat is None or (record[0], record[1]) != stat:
                dirty.append(name)
                continue
            if not same_names and posixpath.splitext(name)[1].lower() in rewritable:
                dirty.append(name)
                continue
            hashed = record[2]
            entry = self.entry(root, hashed)
            if entry is None:
                dirty.append(name)  # the hashed copy is gone or was changed
                continue
            reuse.paths[name] = hashed
            reuse.entries[hashed] = entry
            own, prev = files.get(name), previous.get(name)
            if own is not None and prev is not None and (own[0], own[1]) == stat:
                reuse.entries[name] = dict(prev)
            if record[4]:
                reuse.warnings[name] = [BuildWarning(f, line, m) for f, line, m in record[4]]
        # A change reaches every file that references the changed one, transitively.
        users: dict[str, list[str]] = {}
        for name in reuse.paths:
            for target in self.originals[name][3] or ():
                users.setdefault(target, []).append(name)
        while dirty:
            for user in users.get(dirty.pop(), ()):
                if user in reuse.paths:
                    hashed = reuse.paths.pop(user)
                    reuse.entries.pop(user, None)
                    reuse.entries.pop(hashed, None)
                    reuse.warnings.pop(user, None)
                    dirty.append(user)
        return reuse

    def record_originals(
        self,
        reuse: Reuse,
        paths: Mapping[str, str],
        references: Mapping[str, list[str]],
        warnings: Iterable[BuildWarning],
    ) -> None:
        """Remember this build's hashing of every collected name (``paths``)."""
        by_file: dict[str, list[list[object]]] = {}
        for w in warnings:
            by_file.setdefault(w.file, []).append([w.file, w.line, w.message])
        originals = {}
        for name, hashed in paths.items():
            stat = reuse.stats.get(name)
            if name in reuse.paths:
                originals[name] = self.originals[name]
            elif stat is not None:
                originals[name] = [
                    stat[0],
                    stat[1],
                    hashed,
                    list(references[name]) if references.get(name) else None,
                    by_file.get(name) or None,
                ]
        self.originals = originals


def _valid_files(files: object) -> bool:
    if not isinstance(files, dict):
        return False
    for r in files.values():
        if not (type(r) is list and len(r) == 4 and type(r[0]) is int and type(r[1]) is int):
            return False
        if r[2] is not None and type(r[2]) is not str:
            return False
        states = r[3]
        if states is None:
            continue
        if type(states) is not dict:
            return False
        for st in states.values():
            if st != 0 and not (
                type(st) is list and len(st) == 2 and type(st[0]) is int and type(st[1]) is int
            ):
                return False
    return True


def _valid_originals(originals: object) -> bool:
    if not isinstance(originals, dict):
        return False
    for r in originals.values():
        if not (isinstance(r, list) and len(r) == 5 and type(r[0]) is int and type(r[1]) is int):
            return False
        if not isinstance(r[2], str):
            return False
        targets, warnings = r[3], r[4]
        if targets is not None and (
            not isinstance(targets, list) or not all(isinstance(t, str) for t in targets)
        ):
            return False
        if warnings is not None and not (
            isinstance(warnings, list)
            and all(
                isinstance(w, list)
                and len(w) == 3
                and isinstance(w[0], str)
                and (w[1] is None or type(w[1]) is int)
                and isinstance(w[2], str)
                for w in warnings
            )
        ):
            return False
    return True
