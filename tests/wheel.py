"""A wheel built from this checkout, once per test session (tests/packaging/test_wheel.py,
tests/recipes/test_docker.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_built: dict[str, Path] = {}


def project_wheel(workdir: Path) -> Path:
    """Build ``staticserve_http-*.whl`` from a copy of the sources (not in the checkout,
    which stays clean); later calls return the same file."""
    if "wheel" in _built and _built["wheel"].is_file():
        return _built["wheel"]
    src = workdir / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "setup.py", "README.md", "LICENSE"):
        if (REPO / name).is_file():
            shutil.copy2(REPO / name, src / name)
    shutil.copytree(
        REPO / "staticserve",
        src / "staticserve",
        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"),
    )
    out = workdir / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = out.glob("staticserve_http-*.whl")
    _built["wheel"] = wheel
    return wheel
