"""Run Django's own staticfiles storage tests against a storage class.

Takes ``tests/staticfiles_tests/`` (``test_storage.py`` and the fixtures it
needs) from the source distribution of the *installed* Django, downloaded
with ``pip download`` into a cache directory, so nothing of Django's is
copied into this repository, and runs ``staticfiles_tests.test_storage``
with every use of ``ManifestStaticFilesStorage`` translated to the storage
under test::

    python -m tests.django.storage_suite.runner                  # staticserve
    python -m tests.django.storage_suite.runner --storage django
    python -m tests.django.storage_suite.runner --storage whitenoise
    python -m tests.django.storage_suite.runner --storage my.module.Storage

The translation is one attribute: ``django.contrib.staticfiles.storage.
ManifestStaticFilesStorage`` is replaced by the storage class before the test
module is imported, so the test module's ``STORAGES`` settings (dotted paths
resolved at use) and its subclasses (``SimpleStorage``,
``JSModuleImportAggregationManifestStorage``, ...) all get the storage under
test, exactly as a user who changed ``STORAGES["staticfiles"]`` would.

The last line of output is a JSON summary (Django version, storage, counts,
and the ids of tests that did not pass); the exit status is 0 when every test
ran (whatever the outcome) and the summary was written.

The cache is ``$STATICSERVE_DJANGO_TESTS_CACHE`` or
``~/.cache/staticserve/django-tests``; one extracted copy per Django version.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path

STORAGES = {
    "staticserve": "staticserve.django.storage.CompressedManifestStaticFilesStorage",
    "django": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage",
    "whitenoise": "whitenoise.storage.CompressedManifestStaticFilesStorage",
    "servestatic": "servestatic.storage.CompressedManifestStaticFilesStorage",
}
TEST_MODULE = "staticfiles_tests.test_storage"
#: The part of the source distribution the test module needs.
SDIST_SUBDIR = "tests/staticfiles_tests"


def cache_root() -> Path:
    env = os.environ.get("STATICSERVE_DJANGO_TESTS_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "staticserve" / "django-tests"


def django_tests_dir(version: str) -> Path:
    """``.../<version>/tests`` holding ``staticfiles_tests/``, downloading it once."""
    dest = cache_root() / version
    tests = dest / "tests"
    if (tests / "staticfiles_tests" / "test_storage.py").is_file():
        return tests
    dest.mkdir(parents=True, exist_ok=True)
    # One download at a time (parallel test workers share the cache).
    with open(dest / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tests / "staticfiles_tests" / "test_storage.py").is_file():
            _download(version, dest)
    return tests


def _download(version: str, dest: Path) -> None:
    tests = dest / "tests"
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"django=={version}",
                "-d",
                tmp,
            ],
            check=True,
        )
        (sdist,) = Path(tmp).glob("*.tar.gz")
        staging = Path(tmp) / "x"
        with tarfile.open(sdist) as tar:
            members = []
            for member in tar.getmembers():
                _, _, rel = member.name.partition("/")  # strip "django-<version>/"
                if rel.startswith(SDIST_SUBDIR + "/") and (member.isfile() or member.isdir()):
                    member.name = rel
                    members.append(member)
            if not members:
                raise SystemExit(f"{sdist.name} has no {SDIST_SUBDIR}/")
            kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
            tar.extractall(staging, members=members, **kwargs)
        # Into place in one rename, so a run killed half-way leaves no partial copy.
        shutil.rmtree(tests, ignore_errors=True)
        os.replace(staging / "tests", tests)


def configure(static_root: str) -> None:
    """Settings as Django's ``tests/runtests.py`` sets them for this module."""
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="django-storage-suite",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django.contrib.staticfiles",
            "staticfiles_tests",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        ROOT_URLCONF="staticfiles_tests.urls.default",
        STATIC_URL="static/",
        STATIC_ROOT=static_root,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {"context_processors": []},
            }
        ],
        LANGUAGE_CODE="en",
        USE_TZ=True,
        MIGRATION_MODULES={"auth": None, "contenttypes": None},
        LOGGING_CONFIG=None,
    )


def translate_storage(dotted: str) -> type:
    """Make ``ManifestStaticFilesStorage`` mean the storage under test."""
    from django.contrib.staticfiles import storage
    from django.utils.module_loading import import_string

    cls = import_string(dotted)
    if not issubclass(cls, storage.ManifestFilesMixin):
        raise SystemExit(f"{dotted} is not a ManifestFilesMixin storage")
    storage.ManifestStaticFilesStorage = cls
    return cls


class _Result(unittest.TextTestResult):
    """Records one outcome per test (a failing subtest fails its test)."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.outcomes: dict[str, str] = {}

    def _set(self, test: unittest.TestCase, outcome: str) -> None:
        if self.outcomes.get(test.id()) not in ("failed", "error"):
            self.outcomes[test.id()] = outcome

    def addSuccess(self, test):  # type: ignore[no-untyped-def]
        super().addSuccess(test)
        self._set(test, "passed")

    def addFailure(self, test, err):  # type: ignore[no-untyped-def]
        super().addFailure(test, err)
        self._set(test, "failed")

    def addError(self, test, err):  # type: ignore[no-untyped-def]
        super().addError(test, err)
        self._set(test, "error")

    def addSkip(self, test, reason):  # type: ignore[no-untyped-def]
        super().addSkip(test, reason)
        self._set(test, "skipped")

    def addExpectedFailure(self, test, err):  # type: ignore[no-untyped-def]
        super().addExpectedFailure(test, err)
        self._set(test, "expected failure")

    def addUnexpectedSuccess(self, test):  # type: ignore[no-untyped-def]
        super().addUnexpectedSuccess(test)
        self._set(test, "passed")

    def addSubTest(self, test, subtest, err):  # type: ignore[no-untyped-def]
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._set(test, "failed" if issubclass(err[0], test.failureException) else "error")


def run(storage: str, verbosity: int) -> dict:
    import django

    tests_dir = django_tests_dir(django.__version__)
    sys.path.insert(0, str(tests_dir))
    with tempfile.TemporaryDirectory() as static_root:
        configure(static_root)
        django.setup()
        cls = translate_storage(STORAGES.get(storage, storage))
        from django.test.utils import get_runner

        runner_cls = get_runner(django.conf.settings)
        runner = runner_cls(verbosity=verbosity, interactive=False)
        runner.setup_test_environment()
        suite = runner.build_suite([TEST_MODULE])
        old_config = runner.setup_databases()
        try:
            result = unittest.TextTestRunner(
                verbosity=verbosity, resultclass=_Result, stream=sys.stderr
            ).run(suite)
        finally:
            runner.teardown_databases(old_config)
            runner.teardown_test_environment()
    outcomes = result.outcomes
    # A test whose setUp failed reports an error before any addSuccess.
    for test, _ in result.errors + result.failures:
        outcomes.setdefault(test.id(), "error")
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    short = TEST_MODULE + "."
    return {
        "django": django.__version__,
        "storage": f"{cls.__module__}.{cls.__qualname__}",
        "tests": len(outcomes),
        "counts": counts,
        "not_passed": {
            k.removeprefix(short): v for k, v in sorted(outcomes.items()) if v != "passed"
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--storage",
        default="staticserve",
        help=f"one of {', '.join(STORAGES)}, or a dotted path (default: staticserve)",
    )
    parser.add_argument("-v", "--verbosity", type=int, default=1)
    args = parser.parse_args(argv)
    summary = run(args.storage, args.verbosity)
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
