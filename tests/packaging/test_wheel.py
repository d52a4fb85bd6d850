"""The distribution installs as documented: a wheel of this checkout, in a fresh venv
outside the repository, gives a working command and ``python -m staticserve``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from staticserve import __version__
from tests.wheel import project_wheel

# A hang guard, not a measure: building a wheel, a venv or an image takes minutes
# on a loaded machine, past the suite's default 120 s.
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with ``pip install 'staticserve-http[django]'`` from the wheel; its bin/."""
    where = tmp_path_factory.mktemp("fresh")
    venv.create(where / "venv", with_pip=True)
    bin_dir = where / "venv" / "bin"
    done = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--find-links",
            str(wheel.parent),
            "staticserve-http[django]",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=where,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    yield bin_dir


def _run(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    # cwd: the venv's parent, outside this checkout, so nothing is imported from here.
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=120, env=env, cwd=bin_dir.parent.parent
    )


def test_the_wheel_ships_py_typed_and_no_tests(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "staticserve/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "benchmarks/"))]


def test_the_wheel_ships_the_c_extension_and_its_stub(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "staticserve/_speedups.pyi" in names
    if shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]):
        assert [n for n in names if n.startswith("staticserve/_speedups.") and n.endswith(".so")]


def test_the_installed_wheel_runs_the_c_fast_path_when_built(installed: Path, wheel: Path) -> None:
    built = any(n.endswith(".so") for n in zipfile.ZipFile(wheel).namelist())
    code = "import staticserve.speedups as s; print(s.built(), s.ENABLED)"
    done = _run(installed, str(installed / "python"), "-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(built), str(built)]


def test_installed_command_prints_its_version(installed: Path) -> None:
    done = _run(installed, str(installed / "staticserve"), "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"staticserve {__version__}"


def test_python_dash_m_staticserve_help_lists_the_commands(installed: Path) -> None:
    done = _run(installed, str(installed / "python"), "-m", "staticserve", "--help")
    assert done.returncode == 0, done.stderr
    assert all(command in done.stdout for command in ("serve", "check", "build", "find"))


def test_the_django_extra_installs_django(installed: Path) -> None:
    done = _run(installed, str(installed / "python"), "-c", "import django, staticserve.django")
    assert done.returncode == 0, done.stderr


def test_the_installed_package_is_the_wheel_not_this_checkout(installed: Path) -> None:
    done = _run(
        installed,
        str(installed / "python"),
        "-c",
        "import staticserve; print(staticserve.__file__)",
    )
    assert done.returncode == 0, done.stderr
    assert str(installed.parent) in done.stdout and not done.stdout.startswith(str(Path.cwd()))
    assert sys.prefix not in done.stdout
