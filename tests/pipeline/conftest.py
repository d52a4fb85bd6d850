"""Helpers for build tests: real files in tmp_path, nothing faked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from staticserve.pipeline.cache import CACHE_NAME


def write(base: Path, rel: str, content: str | bytes = "x") -> Path:
    path = base.joinpath(*rel.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def tree(base: Path) -> dict[str, bytes]:
    """Every file under ``base`` (symlinks followed) as name -> bytes.

    Leaves out the build cache: it records this machine's file stats (never
    served), so it is the one file two equal builds do not share.
    """
    out = {}
    for dirpath, _dirs, files in os.walk(base):
        for f in files:
            if f == CACHE_NAME and Path(dirpath) == base:
                continue
            p = Path(dirpath, f)
            out[p.relative_to(base).as_posix()] = p.read_bytes()
    return out


def temp_leftovers(base: Path) -> list[str]:
    return [n for n in tree(base) if ".staticserve-tmp-" in n]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "src"
    path.mkdir()
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "root"
