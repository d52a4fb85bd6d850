"""Fixtures: the committed bundler builds (see tests/bundlers/README.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
VITE_DIST = HERE / "vite-app" / "dist"
WEBPACK_DIST = HERE / "webpack-app" / "dist"


@pytest.fixture
def vite_dist(tmp_path: Path) -> Path:
    """A private copy of the Vite build (tests may add files to it)."""
    return Path(shutil.copytree(VITE_DIST, tmp_path / "dist"))


@pytest.fixture
def webpack_dist(tmp_path: Path) -> Path:
    return Path(shutil.copytree(WEBPACK_DIST, tmp_path / "dist"))
