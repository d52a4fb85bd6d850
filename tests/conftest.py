"""Shared fixtures: a real static tree on disk, with compressed siblings.

``make_static_tree(base)`` writes the tree and returns a :class:`StaticTree`
describing it, so module-scoped fixtures (one real server per module) can
build their own copy with ``tmp_path_factory``; ``static_tree`` is the
per-test copy.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path

import brotli
import pytest
import zstandard
from hypothesis import HealthCheck, settings

# Hypothesis' deadline (200 ms per example) and its too_slow health check are
# wall-clock assertions: on a loaded CI machine they fail for reasons that have
# nothing to do with the code. Every property test runs without them; a test
# that hangs is still stopped by pytest-timeout. (pytest-randomly shuffles the
# order on every run; these settings hold in any order.)
settings.register_profile(
    "staticserve", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("staticserve")

HASHED_JS = "js/app.3f2a1b9c8d7e.js"
NON_ASCII_NAME = "fonts/résumé-ü.txt"

# A 1x1 transparent PNG.
PNG_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def css_text() -> bytes:
    rules = [f".rule-{i} {{ color: #{i % 4096:03x}; margin: {i % 17}px; }}\n" for i in range(600)]
    return "".join(rules).encode()


def js_text() -> bytes:
    lines = [f"export const value{i} = {i} * 2; // line {i}\n" for i in range(800)]
    return "".join(lines).encode()


@functools.lru_cache(maxsize=4)
def pseudo_random_bytes(size: int, seed: int = 1) -> bytes:
    """Incompressible, deterministic bytes (fast: no per-byte Python loop)."""
    return random.Random(seed).randbytes(size)


@functools.lru_cache(maxsize=16)
def compressed(data: bytes) -> dict[str, bytes]:
    """Sibling suffix -> compressed bytes (cached: brotli at quality 11 is slow)."""
    return {
        ".br": brotli.compress(data),
        ".gz": gzip.compress(data, mtime=0),
        ".zst": zstandard.ZstdCompressor(level=19).compress(data),
    }


def write_compressed_siblings(path: Path) -> None:
    for suffix, data in compressed(path.read_bytes()).items():
        path.with_name(path.name + suffix).write_bytes(data)


@dataclass
class StaticTree:
    root: Path
    outside: Path  # a directory next to the root, holding the symlink's target

    def path(self, rel: str) -> Path:
        return self.root.joinpath(*rel.split("/"))

    def read(self, rel: str) -> bytes:
        return self.path(rel).read_bytes()

    def write(self, rel: str, data: bytes) -> Path:
        path = self.path(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


def make_static_tree(base: Path, big_size: int = 3 * 1024 * 1024) -> StaticTree:
    """Write the test tree under ``base``; ``big_size`` bytes of incompressible data."""
    root = base / "static"
    outside = base / "outside"
    root.mkdir(parents=True)
    outside.mkdir()
    tree = StaticTree(root, outside)

    tree.write("css/site.css", css_text())
    write_compressed_siblings(tree.path("css/site.css"))
    tree.write(HASHED_JS, js_text())
    write_compressed_siblings(tree.path(HASHED_JS))
    tree.write("js/plain.js", b"console.log('plain');\n")
    tree.write("img/logo.png", PNG_BYTES)
    tree.write("big.bin", pseudo_random_bytes(big_size))
    tree.write("docs/index.html", b"<!doctype html><title>docs</title>\n")
    tree.write("docs/page.html", b"<!doctype html><title>page</title>\n")
    tree.write(".secret", b"not for you\n")
    tree.write(NON_ASCII_NAME, "non-ASCII name: é\n".encode())
    (outside / "passwd").write_bytes(b"outside the root\n")
    os.symlink(outside / "passwd", tree.path("escape.txt"))
    return tree


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def static_tree(tmp_path: Path) -> StaticTree:
    return make_static_tree(tmp_path, big_size=3 * 1024 * 1024)


@pytest.fixture(params=["c", "python"])
def both_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the C fast path (when built) and with pure Python.

    Adapters built inside the test take the path of this parameter.
    """
    from staticserve import speedups

    if request.param == "c" and not speedups.built():
        pytest.skip("staticserve._speedups is not built")
    monkeypatch.setattr(speedups, "ENABLED", request.param == "c")
    return str(request.param)
