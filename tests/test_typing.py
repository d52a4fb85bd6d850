"""The package type-checks under ``mypy --strict`` (configuration in pyproject.toml).

The public API is typed and ships ``py.typed``, so users' type checkers see it.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _type_checker_installed() -> bool:
    try:
        metadata.distribution("mypy")
        metadata.distribution("django-stubs")
    except metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.timeout(900)  # a cold mypy run with django-stubs, on a loaded machine
@pytest.mark.skipif(
    not _type_checker_installed(),
    reason="mypy and django-stubs come with the test extra: pip install -e '.[test]'",
)
def test_the_package_passes_mypy_strict() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "staticserve"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_ships_py_typed() -> None:
    assert (REPO / "staticserve" / "py.typed").is_file()
