"""WhiteNoise 6.12's own tests through the compatibility module fail only as documented.

Runs in every test run: the test modules come from WhiteNoise's sdist on PyPI
(downloaded once into a cache), the support files the sdist lacks are
committed in ``whitenoise_upstream/``. ``WHITENOISE_SOURCE=PATH`` runs a
checkout of WhiteNoise's repository instead. If the sdist cannot be had, the
test fails saying so: it is never skipped. It runs again on Django 4.2, in the
venv tests/django/other_django_venv.sh makes (``STATICSERVE_SKIP_OTHER_DJANGO=1``
leaves that run out, as it does for Django's storage suite).
"""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.compat import whitenoise_suite
from tests.support.servers import REPO

SOURCE = os.environ.get("WHITENOISE_SOURCE")
INSTALLED_WHITENOISE = version("whitenoise")
OTHER_DJANGO_VENV = REPO / "tests/django/other_django_venv.sh"


def test_every_expected_failure_names_a_section_of_the_guide() -> None:
    guide = (REPO / "docs/migrating-from-whitenoise.md").read_text()
    for section in set(whitenoise_suite.EXPECTED_FAILURES.values()):
        assert f"### {section}\n" in guide, section


# A hang guard only (the run takes ~10 s, ~20 s with the first download): above the
# download's 300 s and the inner pytest's 480 s limits, so those report first.
@pytest.mark.timeout(900)
def test_whitenoise_suite_fails_exactly_where_the_guide_says() -> None:
    result = whitenoise_suite.run(Path(SOURCE) if SOURCE else None)
    assert set(result.failed.values()) == set(whitenoise_suite.EXPECTED_FAILURES), result.output
    assert result.passed > 0, result.output


@pytest.mark.timeout(900)  # a hang guard, as above
@pytest.mark.skipif(
    INSTALLED_WHITENOISE != whitenoise_suite.VERSION,
    reason=f"the installed WhiteNoise is {INSTALLED_WHITENOISE}, the suite "
    f"{whitenoise_suite.VERSION}'s",
)
def test_the_untranslated_suite_passes_on_real_whitenoise() -> None:
    # The harness itself (sdist modules + committed support files) is whole:
    # every failure through the compatibility module is the module's.
    result = whitenoise_suite.run(Path(SOURCE) if SOURCE else None, translated=False)
    assert result.failed == {}, result.output
    assert result.passed == 108, result.output


# The same hang guard, plus making the Django 4.2 venv the first time (pip, up to 300 s).
@pytest.mark.timeout(1200)
@pytest.mark.skipif(
    os.environ.get("STATICSERVE_SKIP_OTHER_DJANGO") == "1",
    reason="STATICSERVE_SKIP_OTHER_DJANGO=1",
)
def test_whitenoise_suite_fails_exactly_where_the_guide_says_on_django_4_2() -> None:
    made = subprocess.run(
        ["bash", str(OTHER_DJANGO_VENV)],
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    python = made.stdout.strip().splitlines()[-1]
    version = subprocess.run(
        [python, "-c", "import django; print(django.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert version.startswith("4.2."), version
    result = whitenoise_suite.run(Path(SOURCE) if SOURCE else None, python=python)
    assert set(result.failed.values()) == set(whitenoise_suite.EXPECTED_FAILURES), result.output
    assert result.passed > 0, result.output


def test_an_sdist_that_cannot_be_downloaded_fails_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STATICSERVE_WHITENOISE_TESTS_CACHE", str(tmp_path / "cache"))
    # pip with no index and an empty find-links directory: no network needed to fail.
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"(?s)could not download WhiteNoise 6\.12\.0.*"
                       r"WHITENOISE_SOURCE"):  # fmt: skip
        whitenoise_suite.sdist_tests()


def test_a_support_file_the_sdist_now_ships_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = tmp_path / "cache" / whitenoise_suite.VERSION / "tests"
    cached.mkdir(parents=True)
    (cached / "test_whitenoise.py").write_text("")
    (cached / "utils.py").write_text("")
    monkeypatch.setenv("STATICSERVE_WHITENOISE_TESTS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(RuntimeError, match=r"sdist now ships tests/utils\.py"):
        whitenoise_suite.assemble(tmp_path / "work")


def test_a_missing_test_dependency_fails_naming_the_install_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(whitenoise_suite, "NEEDS", ("requests", "no_such_module_here"))
    with pytest.raises(
        RuntimeError, match=r"need no_such_module_here.*pip install -e '\.\[test\]'"
    ):
        whitenoise_suite.run()
