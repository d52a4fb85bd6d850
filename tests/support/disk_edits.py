"""Edits a size + mtime check cannot see, made on real files for tests."""

from __future__ import annotations

import os
import time
from pathlib import Path


def after_a_ctime_tick(path: Path) -> None:
    """Return once a change made now gets a ctime other than ``path``'s.

    The kernel's file timestamps advance in ticks (a few ms); an edit in the
    same tick as the write it replaces is invisible to any stat.
    """
    probe = path.with_name(path.name + ".tick")
    deadline = time.monotonic() + 10  # hang guard: the clock ticks every few ms
    while time.monotonic() < deadline:
        probe.write_bytes(b"")
        if probe.stat().st_ctime_ns != path.stat().st_ctime_ns:
            probe.unlink()
            return
    raise AssertionError("the file clock did not move in 10 s")


def edit_keeping_size_and_mtime(path: Path, data: bytes) -> None:
    """Rewrite ``path`` in place (same inode) with same-size ``data``, mtime put back."""
    st = path.stat()
    assert len(data) == st.st_size
    after_a_ctime_tick(path)
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns


def replace_keeping_size_and_mtime(path: Path, data: bytes) -> None:
    """Replace ``path`` by a rename (a new inode), as editors and deploy tools save."""
    st = path.stat()
    assert len(data) == st.st_size
    replacement = path.with_name(path.name + ".new")
    replacement.write_bytes(data)
    os.utime(replacement, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(replacement, path)
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
