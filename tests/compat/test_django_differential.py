"""The Django middleware, configured with WHITENOISE_* settings only, against WhiteNoise's.

Three gunicorns serve the same project (tests/compat/django_project.py) and
the same files: with ``whitenoise.middleware.WhiteNoiseMiddleware``, with
``staticserve.compat.whitenoise.WhiteNoiseMiddleware`` (the one-line change)
and with ``staticserve.django.StaticServeMiddleware`` (which reads the
``WHITENOISE_*`` settings when no ``STATICSERVE_*`` one is set). Compared as in
test_differential.py, against the same list of allowed differences.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.cases import ALLOWED, Allowed, Case, build_site
from tests.compat.test_differential import differences, request, unexplained
from tests.support.servers import REPO, running_server

pytestmark = pytest.mark.timeout(300)

OURS = {
    "compat": "staticserve.compat.whitenoise.WhiteNoiseMiddleware",
    "native": "staticserve.django.StaticServeMiddleware",
}

#: Only in Django: staticserve's default immutable test also knows Django's hashed names.
DJANGO_ALLOWED = [
    Allowed(
        "hashed-names-immutable",
        frozenset({"cache-control"}),
        lambda case: "0123456789ab" in case.path,
        "Caching",
        "a Django-style hashed name (name.<12 hex>.ext) is immutable without a manifest "
        "lookup per file",
    ),
]


def _c(path: str, method: str = "GET", **headers: str) -> Case:
    return Case("", path, method, tuple((k.replace("_", "-"), v) for k, v in headers.items()))


CASES = [
    _c("/static/css/styles.css"),
    _c("/static/css/styles.css", accept_encoding="gzip"),
    _c("/static/css/styles.css", accept_encoding="gzip, deflate, br"),
    _c("/static/css/styles.css", "HEAD", accept_encoding="br"),
    _c("/static/css/styles.css", "POST"),
    _c("/static/js/app.js", if_none_match="{etag}"),
    _c("/static/js/app.js", if_modified_since="{last_modified}"),
    _c("/static/js/app.0123456789ab.js"),
    _c("/static/big.bin", range="bytes=0-99"),
    _c("/static/big.bin", range="bytes=999999-"),
    _c("/static/with-index/"),
    _c("/static/with-index"),
    _c("/static/with-index/index.html"),
    _c("/static/custom.foobar"),
    _c("/static/data.json"),
    _c("/static/robots.txt"),
    _c("/static/epoch/zero.txt"),
    _c("/static/nonascii%E2%9C%93.txt"),
    _c("/static/missing.css"),
    _c("/robots.txt"),
    _c("/not-static"),
]


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    base = tmp_path_factory.mktemp("django-compat")
    build_site(base / "static_root")
    (base / "root_files").mkdir()
    (base / "root_files/robots.txt").write_bytes(b"User-agent: *\n")
    env = {"COMPAT_BASE": str(base), "DJANGO_SETTINGS_MODULE": "tests.compat.django_project"}
    target = "django.core.wsgi:get_wsgi_application()"
    with (
        running_server(
            "gunicorn",
            target,
            {**env, "COMPAT_MIDDLEWARE": "whitenoise.middleware.WhiteNoiseMiddleware"},
        ) as theirs,
        running_server("gunicorn", target, {**env, "COMPAT_MIDDLEWARE": OURS["compat"]}) as compat,
        running_server("gunicorn", target, {**env, "COMPAT_MIDDLEWARE": OURS["native"]}) as native,
    ):
        yield {"whitenoise": theirs.url, "compat": compat.url, "native": native.url}


def _unexplained(
    case: Case, found: dict[str, tuple[object, object]], status: int
) -> dict[str, object]:
    left = unexplained(case, found, status)
    for aspect in list(left):
        if any(aspect in a.aspects and a.when(case) for a in DJANGO_ALLOWED):
            del left[aspect]
    return left


@pytest.mark.parametrize("ours", sorted(OURS))
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_django_answers_match_whitenoise(servers: dict[str, str], case: Case, ours: str) -> None:
    theirs, mine = request(servers["whitenoise"], case), request(servers[ours], case)
    found = differences(case, theirs, mine)
    assert _unexplained(case, found, mine.status) == {}, (
        f"{case.id}: WhiteNoise {theirs.status} {theirs.headers}\n"
        f"{ours} {mine.status} {mine.headers}"
    )


def test_allowed_django_differences_are_in_the_guide() -> None:
    guide = (REPO / "docs/migrating-from-whitenoise.md").read_text()
    for allowed in [*DJANGO_ALLOWED, *ALLOWED]:
        assert f"`{allowed.id}`" in guide


def _django(tmp_path: Path, args: list[str], settings: dict | None = None, **extra_env: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.compat.django_project",
        "COMPAT_BASE": str(tmp_path),
        "COMPAT_SETTINGS": json.dumps(settings or {}),
        "PYTHONPATH": str(REPO),
        **extra_env,
    }
    (tmp_path / "static_root").mkdir(exist_ok=True)
    (tmp_path / "root_files").mkdir(exist_ok=True)
    proc = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    return proc.stdout + proc.stderr


def test_system_check_names_each_whitenoise_setting_to_rename(tmp_path: Path) -> None:
    output = _django(tmp_path, ["-m", "django", "check", "--tag", "staticserve"])
    for name in (
        "ROOT",
        "MAX_AGE",
        "INDEX_FILE",
        "ADD_HEADERS_FUNCTION",
        "MIMETYPES",
        "CHARSET",
        "ALLOW_ALL_ORIGINS",
    ):
        assert f"Rename WHITENOISE_{name} to STATICSERVE_{name}" in output, output
    assert output.count("staticserve.W012") == 7, output


def _start_django(base: Path, middleware: str, autorefresh: bool) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.compat.django_project",
        "COMPAT_BASE": str(base),
        "COMPAT_MIDDLEWARE": middleware,
        "PYTHONPATH": str(REPO),
    }
    if autorefresh:
        env["COMPAT_AUTOREFRESH"] = "1"
    code = "from django.core.wsgi import get_wsgi_application; get_wsgi_application()"
    return subprocess.run(
        [sys.executable, "-W", "always", "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("middleware", sorted(OURS.values()))
def test_missing_static_root_is_a_startup_error_naming_it(tmp_path: Path, middleware: str) -> None:
    """Allowed difference "missing-root": WhiteNoise warns and serves nothing."""
    proc = _start_django(tmp_path / "nope", middleware, autorefresh=False)
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "STATIC_ROOT" in proc.stderr
    assert str(tmp_path / "nope") in proc.stderr


@pytest.mark.parametrize("middleware", sorted(OURS.values()))
def test_missing_static_root_is_accepted_with_autorefresh(tmp_path: Path, middleware: str) -> None:
    proc = _start_django(tmp_path / "nope", middleware, autorefresh=True)
    assert proc.returncode == 0, proc.stderr


def test_whitenoise_only_warns_about_a_missing_static_root(tmp_path: Path) -> None:
    proc = _start_django(tmp_path / "nope", "whitenoise.middleware.WhiteNoiseMiddleware", False)
    assert proc.returncode == 0 and "No directory at" in proc.stderr


def test_system_check_says_which_whitenoise_settings_are_ignored(tmp_path: Path) -> None:
    settings = {"STATICSERVE_MAX_AGE": 5, "WHITENOISE_USE_GZIP": True}
    output = _django(tmp_path, ["-m", "django", "check", "--tag", "staticserve"], settings)
    assert "WHITENOISE_MAX_AGE is ignored because STATICSERVE_MAX_AGE is set" in output, output
    assert "WHITENOISE_USE_GZIP has no staticserve equivalent" in output, output


@pytest.mark.parametrize("name", ["WHITENOISE_STATIC_PREFIX", "STATICSERVE_STATIC_PREFIX"])
def test_static_prefix_setting_replaces_static_urls_path(tmp_path: Path, name: str) -> None:
    code = (
        "import django; django.setup(); "
        "from staticserve.django.middleware import build_static_files; "
        "print(build_static_files().prefixes)"
    )
    output = _django(tmp_path, ["-c", code], {name: "assets"})
    assert "'/assets/'" in output and "'/static/'" not in output, output


# -- the manifest storage: collectstatic by each side's storage, served by its middleware -------

SIDES = {
    "whitenoise": ("whitenoise.middleware.WhiteNoiseMiddleware",
                   "whitenoise.storage.CompressedManifestStaticFilesStorage"),
    "compat": ("staticserve.compat.whitenoise.WhiteNoiseMiddleware",
               "staticserve.compat.whitenoise.CompressedManifestStaticFilesStorage"),
}  # fmt: skip


@pytest.fixture(scope="module")
def manifest_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    bases = {}
    for side, (_, storage) in SIDES.items():
        base = tmp_path_factory.mktemp(f"manifest-{side}")
        (base / "src/css").mkdir(parents=True)
        (base / "src/img").mkdir()
        (base / "src/img/dot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
        (base / "src/css/app.css").write_bytes(
            b"body { background: url(../img/dot.png) }\n" + b".pad { margin: 0 }\n" * 40
        )
        (base / "root_files").mkdir()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.compat.django_project",
            "COMPAT_BASE": str(base),
            "COMPAT_STORAGE": storage,
            "PYTHONPATH": str(REPO),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "django", "collectstatic", "--noinput", "-v", "0"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stdout + proc.stderr
        for path in (base / "static_root").rglob("*"):
            os.utime(path, (1_700_000_000, 1_700_000_000))  # collected at different times
        bases[side] = base
    manifests = {
        side: json.loads((base / "static_root/staticfiles.json").read_text())["paths"]
        for side, base in bases.items()
    }
    # The same sources get the same hashed names from both storages.
    assert manifests["whitenoise"] == manifests["compat"]
    target = "django.core.wsgi:get_wsgi_application()"
    with running_server("gunicorn", target, {
            "DJANGO_SETTINGS_MODULE": "tests.compat.django_project",
            "COMPAT_BASE": str(bases["whitenoise"]), "COMPAT_MIDDLEWARE": SIDES["whitenoise"][0],
            "COMPAT_STORAGE": SIDES["whitenoise"][1]}) as theirs, \
         running_server("gunicorn", target, {
            "DJANGO_SETTINGS_MODULE": "tests.compat.django_project",
            "COMPAT_BASE": str(bases["compat"]), "COMPAT_MIDDLEWARE": SIDES["compat"][0],
            "COMPAT_STORAGE": SIDES["compat"][1]}) as ours:  # fmt: skip
        yield {"whitenoise": theirs.url, "compat": ours.url, "paths": manifests["compat"]}


@pytest.mark.parametrize(
    ("name", "hashed", "accept_encoding"),
    [("css/app.css", True, None), ("css/app.css", True, "gzip, deflate, br"),
     ("css/app.css", False, None), ("img/dot.png", True, None), ("img/dot.png", False, None)],
)  # fmt: skip
def test_collected_manifest_files_are_served_as_by_whitenoise(
    manifest_servers: dict, name: str, hashed: bool, accept_encoding: str | None
) -> None:
    path = "/static/" + (manifest_servers["paths"][name] if hashed else name)
    headers = (("accept-encoding", accept_encoding),) if accept_encoding else ()
    case = Case("", path, "GET", headers)
    theirs = request(manifest_servers["whitenoise"], case)
    ours = request(manifest_servers["compat"], case)
    assert theirs.status == ours.status == 200
    if hashed:  # immutable on both sides (for one year here, ten there)
        assert "immutable" in theirs.headers["cache-control"]
    found = differences(case, theirs, ours)
    assert _unexplained(case, found, ours.status) == {}, (theirs.headers, ours.headers)


@pytest.mark.parametrize("value", [False, True])
@pytest.mark.parametrize("storage", [SIDES["compat"][1], "staticserve.django.storage."
                                     "CompressedManifestStaticFilesStorage"])  # fmt: skip
def test_storages_read_whitenoise_manifest_strict(
    tmp_path: Path, storage: str, value: bool
) -> None:
    code = (
        "import django; django.setup(); "
        "from django.contrib.staticfiles.storage import staticfiles_storage as s; "
        "print('strict', s.manifest_strict, s.keep_only_hashed_files)"
    )
    settings = {"WHITENOISE_MANIFEST_STRICT": value, "WHITENOISE_KEEP_ONLY_HASHED_FILES": value}
    output = _django(tmp_path, ["-c", code], settings, COMPAT_STORAGE=storage)
    assert f"strict {value} {value}" in output, output
