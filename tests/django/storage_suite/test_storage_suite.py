"""Django's own ``staticfiles_tests/test_storage.py`` against our storage.

The module comes from the source distribution of the Django version that
runs it (see ``runner.py``); every test passes except
``test_intermediate_files``, which counts the compressed siblings our storage
writes next to each file (docs/django.md, "Switching from
ManifestStaticFilesStorage / WhiteNoise").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import REPO

EXPECTED_NOT_PASSED = {"TestCollectionManifestStorage.test_intermediate_files": "failed"}
OTHER_VENV = Path(__file__).parent.parent / "other_django_venv.sh"


def run_suite(python: str, storage: str = "staticserve") -> dict:
    proc = subprocess.run(
        [python, "-m", "tests.django.storage_suite.runner", "--storage", storage, "-v", "0"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    summary["output"] = proc.stderr
    return summary


def assert_expected(summary: dict, at_least: int) -> None:
    assert summary["storage"] == "staticserve.django.storage.CompressedManifestStaticFilesStorage"
    assert summary["not_passed"] == EXPECTED_NOT_PASSED, summary["output"]
    # The whole module ran (51 tests on Django 5.2, 47 on 4.2).
    assert summary["tests"] >= at_least, summary


@pytest.mark.timeout(600)
def test_djangos_storage_tests_pass_on_the_installed_django() -> None:
    import django

    summary = run_suite(sys.executable)
    assert summary["django"] == django.__version__
    assert_expected(summary, at_least=47)


@pytest.mark.timeout(600)
@pytest.mark.skipif(
    os.environ.get("STATICSERVE_SKIP_OTHER_DJANGO") == "1",
    reason="STATICSERVE_SKIP_OTHER_DJANGO=1",
)
def test_djangos_storage_tests_pass_on_django_4_2() -> None:
    proc = subprocess.run(
        ["bash", str(OTHER_VENV)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    summary = run_suite(proc.stdout.strip().splitlines()[-1])
    assert summary["django"].startswith("4.2.")
    assert_expected(summary, at_least=47)
