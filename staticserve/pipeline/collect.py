"""Collect several source directories into one root (like ``collectstatic``).

Sources are searched in order and the first one that has a path wins, as
Django's finders do. A source may be mounted under a prefix
(``vendor=node_modules/x/dist`` puts ``dist/a.js`` at ``vendor/a.js``).

Public API::

    parse_source(spec: str) -> Source
    is_ignored(rel_path: str, patterns: Sequence[str]) -> bool
    find_files(sources, ignore=DEFAULT_IGNORE) -> dict[str, Path]
    collectable(sources, root, ignore=DEFAULT_IGNORE) -> dict[str, Path]
    find(path, sources, ignore=DEFAULT_IGNORE, find_all=False) -> list[Path]
    collect(sources, root, *, ignore=DEFAULT_IGNORE, clear=False,
            dry_run=False, link=False, files=None) -> CollectResult
"""

from __future__ import annotations

import os
import posixpath
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase, translate
from pathlib import Path

from ._files import BuildError, atomic_copy, atomic_symlink, check_name, is_temp_name

DEFAULT_IGNORE: tuple[str, ...] = ("CVS", ".*", "*~")


@dataclass(frozen=True)
class Source:
    """A source directory, optionally mounted under ``prefix`` in the root."""

    path: Path
    prefix: str = ""

    def location(self, name: str) -> Path | None:
        """Where ``name`` (a root-relative path) would live in this source."""
        if self.prefix:
            if not name.startswith(self.prefix + "/"):
                return None
            name = name[len(self.prefix) + 1 :]
        return self.path.joinpath(*name.split("/"))

    def __str__(self) -> str:
        return f"{self.prefix}={self.path}" if self.prefix else str(self.path)


@dataclass
class CollectResult:
    """What :func:`collect` did. ``files`` maps root-relative name -> source file."""

    files: dict[str, Path]
    copied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def parse_source(spec: str) -> Source:
    """Parse ``DIR`` or ``PREFIX=DIR`` into a :class:`Source`.

    A directory that itself contains ``=`` is taken whole when it exists.
    """
    if "=" in spec and not os.path.isdir(spec):
        prefix, _, path = spec.partition("=")
        prefix = prefix.strip("/")
        if not prefix or ".." in prefix.split("/") or "\\" in prefix:
            raise BuildError(f"bad source prefix in {spec!r}: use PREFIX=DIR, e.g. vendor=dist")
        return Source(Path(path), prefix)
    return Source(Path(spec))


def is_ignored(rel_path: str, patterns: Sequence[str]) -> bool:
    """Whether a forward-slash relative path matches any ignore glob.

    A pattern without ``/`` matches any single path component (so ``.*``
    ignores ``.git/config`` and ``a/.DS_Store``); a pattern with ``/`` matches
    the whole relative path (``vendor/*.ts``).
    """
    parts = rel_path.split("/")
    for pattern in patterns:
        if "/" in pattern:
            if fnmatchcase(rel_path, pattern.strip("/")):
                return True
        elif any(fnmatchcase(part, pattern) for part in parts):
            return True
    return False


class _Matcher:
    """``is_ignored`` compiled once: one regex for name patterns, one for path patterns."""

    def __init__(self, patterns: Sequence[str]) -> None:
        names = [translate(p) for p in patterns if "/" not in p]
        paths = [translate(p.strip("/")) for p in patterns if "/" in p]
        self.name = re.compile("|".join(names)).match if names else None
        self.path = re.compile("|".join(paths)).match if paths else None

    def leaf(self, rel: str, name: str) -> bool:
        """Whether ``rel`` (its parent directories passed) is ignored; ``name``: its last part."""
        return bool((self.name and self.name(name)) or (self.path and self.path(rel)))


def _check_sources(sources: Sequence[Source]) -> None:
    for source in sources:
        if not source.path.exists():
            raise BuildError(f"source directory does not exist: {source.path}")
        if not source.path.is_dir():
            raise BuildError(f"source is not a directory: {source.path}")


def _walk(source: Source, ignore: Sequence[str]) -> Iterable[tuple[str, Path]]:
    """Yield (root-relative name, file path) for one source, sorted, ignores applied."""
    base = source.path

    def onerror(exc: OSError) -> None:
        raise BuildError(f"{exc.filename}: cannot list directory: {exc.strerror}") from exc

    # Directories are pruned as they are met, so a file's own name and its
    # whole path are all that is left to match: same answers as is_ignored.
    ignored = _Matcher(ignore).leaf
    prefix = source.prefix + "/" if source.prefix else ""
    for dirpath, dirnames, filenames in os.walk(base, onerror=onerror, followlinks=True):
        rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        dirnames[:] = [d for d in sorted(dirnames) if not ignored(rel_dir + d, d)]
        directory = Path(dirpath)
        for f in sorted(filenames):
            rel = rel_dir + f
            if ignored(rel, f) or is_temp_name(f):
                continue
            path = directory / f
            check_name(rel, path)
            yield prefix + rel, path


def find_files(
    sources: Sequence[Source], ignore: Sequence[str] = DEFAULT_IGNORE
) -> dict[str, Path]:
    """Every file the sources provide, first source winning; keys sorted."""
    _check_sources(sources)
    found: dict[str, Path] = {}
    for source in sources:
        for name, path in _walk(source, ignore):
            found.setdefault(name, path)
    return dict(sorted(found.items()))


def find(
    path: str,
    sources: Sequence[Source],
    ignore: Sequence[str] = DEFAULT_IGNORE,
    find_all: bool = False,
) -> list[Path]:
    """The file(s) that would be collected as ``path``, in precedence order."""
    _check_sources(sources)
    name = posixpath.normpath(path.replace("\\", "/").lstrip("/"))
    if name.startswith("../") or name == ".." or is_ignored(name, ignore):
        return []
    hits = []
    for source in sources:
        candidate = source.location(name)
        if candidate is not None and candidate.is_file():
            hits.append(candidate)
            if not find_all:
                break
    return hits


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def check_layout(sources: Sequence[Source], root: Path) -> None:
    """Refuse a root inside a source (copies into itself) or a source inside the root."""
    real_root = root.resolve()
    for source in sources:
        real_source = source.path.resolve()
        if _inside(real_root, real_source):
            raise BuildError(
                f"output root {root} is inside source {source.path}: the build would copy "
                "into itself; put the root outside every source"
            )
        if _inside(real_source, real_root):
            raise BuildError(
                f"source {source.path} is inside output root {root}: --clear or a rebuild "
                "would overwrite it; put the root outside every source"
            )


def _unchanged(src: Path, dest: str, link: bool) -> bool:
    try:
        if link:
            return os.path.islink(dest) and os.readlink(dest) == str(src.resolve())
        d = os.lstat(dest)
        if stat.S_ISLNK(d.st_mode):
            return False
        s = os.stat(src)
    except OSError:
        return False
    # copy2 preserves mtime, so equal size + mtime means this exact copy, unless
    # the source changed after the copy was made with its mtime restored (cp -p,
    # rsync -t, touch -d): its ctime, which nothing can set, is then the newer.
    return (
        s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns and s.st_ctime_ns <= d.st_ctime_ns
    )


def clear_root(root: Path) -> list[str]:
    """Delete everything inside ``root`` (never ``root`` itself, never through a symlink)."""
    removed: list[str] = []
    if not root.exists():
        return removed
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        # Symlinks are unlinked, not followed: their targets live outside the root.
        if entry.is_dir(follow_symlinks=False):
            import shutil  # only --clear needs it

            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
        removed.append(entry.name)
    return removed


def collectable(
    sources: Sequence[Source], root: Path, ignore: Sequence[str] = DEFAULT_IGNORE
) -> dict[str, Path]:
    """The files :func:`collect` would collect into ``root`` (after the same checks)."""
    _check_sources(sources)
    check_layout(sources, root)
    return find_files(sources, ignore)


def collect(
    sources: Sequence[Source],
    root: Path,
    *,
    ignore: Sequence[str] = DEFAULT_IGNORE,
    clear: bool = False,
    dry_run: bool = False,
    link: bool = False,
    files: dict[str, Path] | None = None,
) -> CollectResult:
    """Copy (or symlink) every source file into ``root``, skipping unchanged ones.

    ``files`` is :func:`collectable`'s answer when the caller has it already.
    Raises :class:`BuildError` for a missing source, a root inside a source,
    or an unreadable / vanished file; files already in place stay whole.
    """
    root = Path(root)
    if files is None:
        files = collectable(sources, root, ignore)
    result = CollectResult(files=files)
    if clear:
        result.removed = sorted(os.listdir(root)) if root.exists() else []
        if not dry_run:
            clear_root(root)
    root_prefix = str(root) + os.sep
    for name, src in files.items():
        if not clear and _unchanged(src, root_prefix + name.replace("/", os.sep), link):
            result.unchanged.append(name)
            continue
        result.copied.append(name)
        if dry_run:
            continue
        dest = root.joinpath(*name.split("/"))
        if link:
            atomic_symlink(src.resolve(), dest)
        else:
            atomic_copy(src, dest)
    return result
