"""Shared plumbing for the build: errors, warnings, atomic writes, reads.

Every write in the build goes through :func:`atomic_write` or
:func:`atomic_copy` so that a crash, a full disk or a vanished source never
leaves a half-written file under its real name: readers (the index, a CDN,
a running server) see either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

# Temporary files start with a dot, so a crash that leaves one behind leaves
# a name every later scan ignores (dotfiles are never collected or served).
_TMP_PREFIX = ".staticserve-tmp-"


class BuildError(Exception):
    """A build step failed; the message names the file and the problem."""


@dataclass(frozen=True)
class BuildWarning:
    """Something the build let through but the user should hear about."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


def tmp_path_for(path: Path) -> Path:
    """The temporary sibling used while writing ``path``."""
    return path.with_name(f"{_TMP_PREFIX}{os.getpid()}-{path.name}")


def is_temp_name(name: str) -> bool:
    """Whether a base name is one of our temporary files."""
    return name.startswith(_TMP_PREFIX)


def atomic_write(path: Path, data: bytes, mtime_ns: int | None = None) -> None:
    """Write ``data`` to ``path`` via a temporary sibling and ``os.replace``."""
    tmp = tmp_path_for(path)
    try:
        try:
            f = open(tmp, "wb")  # noqa: SIM115 - closed just below
        except FileNotFoundError:
            # Creating the directory only when missing saves a syscall per file.
            path.parent.mkdir(parents=True, exist_ok=True)
            f = open(tmp, "wb")  # noqa: SIM115
        with f:
            f.write(data)
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise BuildError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_if_changed(path: Path, data: bytes) -> bool:
    """:func:`atomic_write` unless ``path`` holds ``data`` already; whether it wrote.

    A rebuild that changes nothing leaves the manifest and the cache as they
    are (same bytes, same stat), so servers and CDNs see no new file.
    """
    try:
        if os.path.getsize(path) == len(data) and read_bytes(path) == data:
            return False
    except (OSError, BuildError):
        pass
    atomic_write(path, data)
    return True


def atomic_copy(src: Path, dest: Path) -> None:
    """Copy ``src`` to ``dest`` (content and mtime) via a temporary sibling."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(dest)
    try:
        import shutil  # (bz2 and lzma with it): a build with nothing to copy never needs it

        shutil.copy2(src, tmp)
        os.replace(tmp, dest)
    except FileNotFoundError as exc:
        _discard(tmp)
        if not os.path.exists(src):
            raise BuildError(f"{src}: file vanished during the build") from exc
        raise BuildError(f"cannot copy {src} to {dest}: {exc.strerror or exc}") from exc
    except OSError as exc:
        _discard(tmp)
        raise BuildError(f"cannot copy {src} to {dest}: {exc.strerror or exc}") from exc


def atomic_symlink(target: Path, dest: Path) -> None:
    """Make ``dest`` a symlink to ``target``, replacing whatever was there."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_for(dest)
    try:
        _discard(tmp)
        os.symlink(target, tmp)
        os.replace(tmp, dest)
    except OSError as exc:
        _discard(tmp)
        raise BuildError(f"cannot link {dest} -> {target}: {exc.strerror or exc}") from exc


def read_bytes(path: Path) -> bytes:
    """Read a whole file, turning OS errors into a :class:`BuildError` naming it."""
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError as exc:
        raise BuildError(f"{path}: file vanished during the build") from exc
    except IsADirectoryError as exc:
        raise BuildError(f"{path}: expected a file, found a directory") from exc
    except OSError as exc:
        raise BuildError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def check_name(name: str, where: Path) -> None:
    """Reject file names that cannot be written into a UTF-8 JSON manifest."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError as exc:
        shown = os.fsencode(where).decode("utf-8", "backslashreplace")
        raise BuildError(f"{shown}: file name is not valid UTF-8; rename the file") from exc
