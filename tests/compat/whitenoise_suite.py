"""Run WhiteNoise's own tests against staticserve.compat.whitenoise, names translated.

Usage: ``python tests/compat/whitenoise_suite.py PATH`` where PATH is a checkout
of WhiteNoise's repository at tag 6.12.0 (its tests need its ``tests/utils.py``
and ``tests/test_files``, which the sdist lacks; they also need ``requests``).
WhiteNoise's code is not part of this repository: the script copies its tests
to a temporary directory, translates the imports and dotted paths onto the
compatibility module, runs them with pytest and compares the failures with
:data:`EXPECTED_FAILURES`, each naming the section of
docs/migrating-from-whitenoise.md that explains it. Exit 0 when exactly the
expected tests fail (a test that starts passing is reported, not an error).
``tests/compat/test_whitenoise_suite.py`` runs it under pytest when the
environment variable ``WHITENOISE_SOURCE`` names such a checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

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

SPELLING = "Header spelling"
#: test name (without parameters) -> the guide's section explaining the failure.
EXPECTED_FAILURES = {
    "test_whitenoise.py::test_get_file": SPELLING,
    "test_django_whitenoise.py::test_versioned_file_cached_forever": SPELLING,
    "test_django_whitenoise.py::test_unversioned_file_not_cached_forever": SPELLING,
    "test_whitenoise.py::test_get_accept_star": "Compressed variants",
    "test_whitenoise.py::test_warn_about_missing_directories": "Missing roots",
    "test_whitenoise.py::test_path_is_child_of": "Other differences",
}


def translate(source: Path, target: Path) -> None:
    shutil.copytree(source / "tests", target / "tests")
    for rel in TRANSLATED:
        path = target / rel
        text = path.read_text()
        for old, new in RENAMES:
            text = text.replace(old, new)
        path.write_text(text)


def run(source: Path) -> tuple[int, dict[str, str]]:
    """(passed count, {failed test id: base name}) of the translated suite."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        translate(source, work)
        report = work / "report.xml"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(work)])}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                   "-p", "no:cacheprovider", "-o", "addopts=", f"--junitxml={report}",
                   *MODULES, *(f"--deselect={d}" for d in DESELECTED)]  # fmt: skip
        subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=600)
        if not report.exists():
            raise SystemExit("the translated suite did not run (is requests installed?)")
        passed, failed = 0, {}
        for case in ET.parse(report).iter("testcase"):
            module = case.get("classname", "").replace(".", "/").removeprefix("tests/")
            name = f"{module}.py::{case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                failed[name] = name.split("[", 1)[0]
            elif case.find("skipped") is None:
                passed += 1
        return passed, failed


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "tests" / "utils.py").is_file():
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    passed, failed = run(Path(argv[0]))
    unexpected = sorted(t for t, base in failed.items() if base not in EXPECTED_FAILURES)
    fixed = sorted(set(EXPECTED_FAILURES) - set(failed.values()))
    print(f"{passed} passed, {len(failed)} failed")
    for test in sorted(failed):
        print(f"  {test}: {EXPECTED_FAILURES.get(failed[test], 'UNEXPECTED')}")
    for test in fixed:
        print(f"  now passing (remove from EXPECTED_FAILURES): {test}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
