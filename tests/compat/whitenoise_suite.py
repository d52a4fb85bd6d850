"""Run WhiteNoise's own tests against staticserve.compat.whitenoise, names translated.

Usage: ``python tests/compat/whitenoise_suite.py [PATH]``. WhiteNoise's code is
not part of this repository. Its test modules (``tests/test_*.py``) come from
the source distribution of WhiteNoise :data:`VERSION` on PyPI, downloaded once
with ``pip download`` into a cache directory (``$STATICSERVE_WHITENOISE_TESTS_CACHE``
or ``~/.cache/staticserve/whitenoise-tests``); the files that sdist lacks
(``tests/utils.py``, ``conftest.py``, the Django settings, ``test_files/``) are
committed, unchanged, in ``tests/compat/whitenoise_upstream/`` (its README says
from where) and laid over it. With PATH, a checkout of WhiteNoise's repository
at that tag is used instead (offline). The script copies the tests to a
temporary directory, translates the imports and dotted paths onto the
compatibility module, runs them with pytest (they need ``requests``) and
compares the failures with :data:`EXPECTED_FAILURES`, each naming the section
of docs/migrating-from-whitenoise.md that explains it. Exit 0 when exactly the
expected tests fail: a test that starts passing is an error too, so the list
stays true. ``tests/compat/test_whitenoise_suite.py`` runs it in every test run
(``WHITENOISE_SOURCE=PATH`` passes PATH).
"""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: The WhiteNoise release whose tests run. Pinned, not the installed version:
#: the committed support files and EXPECTED_FAILURES are this release's.
VERSION = "6.12.0"
#: What WhiteNoise's tests import besides WhiteNoise and pytest (the test extra has them).
NEEDS = ("requests", "django")
#: WhiteNoise's ``tests/`` files its sdist lacks, from the tag (see its README).
OVERLAY = Path(__file__).resolve().parent / "whitenoise_upstream" / "tests"

#: Public-behaviour test modules; tests of internals (Compressor, MediaTypes,
#: responders, string_utils, runserver_nostatic's help text) are left out.
MODULES = ["tests/test_whitenoise.py", "tests/test_django_whitenoise.py", "tests/test_storage.py"]
DESELECTED = [  # tests of whitenoise.responders.StaticFile, an internal
    "tests/test_whitenoise.py::test_last_modified_not_set_when_mtime_is_zero",
    "tests/test_whitenoise.py::test_file_size_matches_range_with_range_header",
    "tests/test_whitenoise.py::test_chunked_file_size_matches_range_with_range_header",
]
TRANSLATED = [*MODULES, "tests/django_settings.py"]
RENAMES = [
    ("from whitenoise import WhiteNoise", "from staticserve.compat.whitenoise import WhiteNoise"),
    ("from whitenoise.middleware import", "from staticserve.compat.whitenoise import"),
    ("from whitenoise.storage import", "from staticserve.compat.whitenoise import"),
    ('"whitenoise.storage.', '"staticserve.compat.whitenoise.'),
    ('"whitenoise.middleware.WhiteNoiseMiddleware"',
     '"staticserve.compat.whitenoise.WhiteNoiseMiddleware"'),
    ('"whitenoise.runserver_nostatic"', '"staticserve.django"'),
]  # fmt: skip

#: test name (without parameters) -> the guide's section explaining the failure.
EXPECTED_FAILURES = {
    "test_whitenoise.py::test_get_accept_star": "Compressed variants",
    "test_whitenoise.py::test_warn_about_missing_directories": "Missing roots",
}


def cache_root() -> Path:
    env = os.environ.get("STATICSERVE_WHITENOISE_TESTS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "staticserve" / "whitenoise-tests"


def sdist_tests(version: str = VERSION) -> Path:
    """``tests/`` of WhiteNoise ``version``'s sdist, downloaded once into the cache."""
    dest = cache_root() / version
    tests = dest / "tests"
    if (tests / "test_whitenoise.py").is_file():
        return tests
    dest.mkdir(parents=True, exist_ok=True)
    # One download at a time (parallel test workers share the cache).
    with open(dest / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tests / "test_whitenoise.py").is_file():
            _download(version, dest)
    return tests


def _download(version: str, dest: Path) -> None:
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        command = [sys.executable, "-m", "pip", "download", "--quiet",
                   "--disable-pip-version-check", "--no-deps", "--no-binary", ":all:",
                   f"whitenoise=={version}", "-d", tmp]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300)
        sdists = list(Path(tmp).glob("*.tar.gz"))
        if proc.returncode != 0 or len(sdists) != 1:
            raise RuntimeError(
                f"could not download WhiteNoise {version}'s source distribution, whose "
                f"tests/*.py this test runs ({' '.join(command[2:])} exited with "
                f"{proc.returncode}: {proc.stderr.strip()[-2000:]}); make PyPI reachable "
                "(or a pip index that has it), or set WHITENOISE_SOURCE to a checkout of "
                f"https://github.com/evansd/whitenoise at tag {version}"
            )
        staging = Path(tmp) / "x"
        with tarfile.open(sdists[0]) as tar:
            members = []
            for member in tar.getmembers():
                _, _, rel = member.name.partition("/")  # strip "whitenoise-<version>/"
                if rel.startswith("tests/") and (member.isfile() or member.isdir()):
                    member.name = rel
                    members.append(member)
            if not any(m.name == "tests/test_whitenoise.py" for m in members):
                raise RuntimeError(f"{sdists[0].name} has no tests/test_whitenoise.py")
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(staging, members=members, **kwargs)
        # Into place in one rename, so a run killed half-way leaves no partial copy.
        shutil.rmtree(dest / "tests", ignore_errors=True)
        os.replace(staging / "tests", dest / "tests")


def assemble(target: Path, source: Path | None = None) -> None:
    """WhiteNoise's ``tests/`` into ``target/tests``: a checkout's, or the sdist's + overlay."""
    if source is not None:
        shutil.copytree(source / "tests", target / "tests")
        return
    shutil.copytree(sdist_tests(), target / "tests")
    for path in sorted(OVERLAY.rglob("*")):
        if path.is_file():
            dest = target / "tests" / path.relative_to(OVERLAY)
            if dest.exists():
                raise RuntimeError(
                    f"WhiteNoise {VERSION}'s sdist now ships {dest.relative_to(target)}: "
                    f"delete it from {OVERLAY} (the sdist's copy is the one to run)"
                )
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)


def translate(target: Path) -> None:
    for rel in TRANSLATED:
        path = target / rel
        text = path.read_text()
        for old, new in RENAMES:
            text = text.replace(old, new)
        path.write_text(text)


@dataclass
class Result:
    passed: int = 0
    #: failed (or erroring) test id -> its name without parameters
    failed: dict[str, str] = field(default_factory=dict)
    output: str = ""

    @property
    def unexpected(self) -> list[str]:
        """Failures the guide does not explain."""
        return sorted(t for t, base in self.failed.items() if base not in EXPECTED_FAILURES)

    @property
    def now_passing(self) -> list[str]:
        """Expected failures that did not fail: remove them from EXPECTED_FAILURES."""
        return sorted(set(EXPECTED_FAILURES) - set(self.failed.values()))


def run(
    source: Path | None = None, python: str = sys.executable, *, translated: bool = True
) -> Result:
    """Run the translated suite: the sdist's modules + overlay, or a checkout's ``tests/``.

    ``python`` runs it (another Django's venv, say); the dependency check is this one's.
    ``translated=False`` runs it against the installed WhiteNoise itself, as published.
    """
    missing = [m for m in NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        raise RuntimeError(
            f"WhiteNoise's tests need {', '.join(missing)}, which this environment lacks: "
            "pip install -e '.[test]' (the test extra has them)"
        )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        assemble(work, source)
        if translated:
            translate(work)
        report = work / "report.xml"
        # WhiteNoise's ``tests`` package first: this repository has one of that name too.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(work), str(REPO)])}
        env.pop("DJANGO_SETTINGS_MODULE", None)  # its conftest sets its own
        env.pop("PYTEST_ADDOPTS", None)  # the outer run's options are not this run's
        command = [python, "-m", "pytest", "-q", "-p", "no:randomly",
                   "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={report}",
                   # a hung test is reported by name, well before the outer timeout
                   "-o", "timeout=120",
                   *MODULES, *(f"--deselect={d}" for d in DESELECTED)]  # fmt: skip
        proc = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                              timeout=480)  # fmt: skip
        result = Result(output=proc.stdout + proc.stderr)
        if not report.exists():
            raise RuntimeError(f"the translated suite did not run:\n{result.output}")
        for case in ET.parse(report).iter("testcase"):
            module = case.get("classname", "").replace(".", "/").removeprefix("tests/")
            name = f"{module}.py::{case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                result.failed[name] = name.split("[", 1)[0]
            elif case.find("skipped") is None:
                result.passed += 1
        return result


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and not (Path(argv[0]) / "tests" / "utils.py").is_file()):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    result = run(Path(argv[0]) if argv else None)
    print(f"{result.passed} passed, {len(result.failed)} failed")
    for test in sorted(result.failed):
        print(f"  {test}: {EXPECTED_FAILURES.get(result.failed[test], 'UNEXPECTED')}")
    for test in result.now_passing:
        print(f"  now passing (remove from EXPECTED_FAILURES): {test}")
    return 1 if result.unexpected or result.now_passing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
