"""Django integration tests, each Django run in its own process.

Django's settings are process-global, and the rest of the suite is not
Django-aware, so nothing here configures Django in the pytest process:

* ``collectstatic`` runs once per storage backend (module fixture);
* the test-client, checks, DEBUG, storage and live-server tests
  (``tests/django/project/dj_*.py``) run under ``python -m django test``;
* real gunicorn (WSGI) and uvicorn (ASGI) processes serve the project;
* ``run_other_version.sh`` repeats the Django tests under Django 4.2 LTS
  (skipped only with STATICSERVE_SKIP_OTHER_DJANGO=1).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.parse
from pathlib import Path

import pytest

from tests.django.assets import check_admin_assets, check_passthrough
from tests.support.servers import REPO, free_port, running_server, wait_for_port

SETTINGS = "tests.django.project.settings"
BACKENDS = {
    "manifest": "staticserve.django.storage.CompressedManifestStaticFilesStorage",
    "plain": "staticserve.django.storage.CompressedStaticFilesStorage",
}


def django_env(**ss: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    env.update({"SS_" + k: v for k, v in ss.items()})
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 90) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def collected(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    roots = {}
    for kind, backend in BACKENDS.items():
        root = tmp_path_factory.mktemp(f"static-{kind}")
        out = run(
            ["collectstatic", "--noinput"],
            django_env(STATIC_ROOT=str(root), STORAGE=backend),
        )
        assert "post-processed" in out, out
        roots[kind] = root
    return roots


@pytest.mark.parametrize(
    ("module", "backend"),
    [
        ("dj_client", "manifest"),
        ("dj_client", "plain"),
        ("dj_checks", "manifest"),
        ("dj_debug", "manifest"),
        ("dj_storage", "manifest"),
        ("dj_compat", "manifest"),
        ("dj_live", "manifest"),
    ],
)
def test_django_suite(collected: dict[str, Path], module: str, backend: str) -> None:
    env = django_env(STATIC_ROOT=str(collected[backend]), STORAGE=BACKENDS[backend])
    out = run(["test", "-v", "2", f"tests.django.project.{module}"], env)
    assert "\nOK" in out, out


def http_fetch(base_url: str):
    parts = urllib.parse.urlsplit(base_url)

    def fetch(path: str, headers: dict[str, str]):
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            return (
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                body,
            )
        finally:
            conn.close()

    return fetch


@pytest.mark.parametrize("backend", ["manifest", "plain"])
@pytest.mark.parametrize(
    ("kind", "target"),
    [
        ("gunicorn", "tests.django.project.wsgi:application"),
        ("uvicorn", "tests.django.project.asgi:application"),
    ],
)
def test_real_server(collected: dict[str, Path], kind: str, target: str, backend: str) -> None:
    root = collected[backend]
    env = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "SS_STATIC_ROOT": str(root),
        "SS_STORAGE": BACKENDS[backend],
    }
    with running_server(kind, target, env=env, cwd=REPO) as server:
        fetch = http_fetch(server.url)
        check_admin_assets(fetch, str(root), immutable=backend == "manifest")
        check_passthrough(fetch)
        # A large file from disk (not held in memory): exact length, intact bytes.
        status, headers, body = fetch("/static/admin/js/vendor/jquery/jquery.js", {})
        expected = (root / "admin/js/vendor/jquery/jquery.js").read_bytes()
        assert status == 200 and body == expected
        assert headers["content-length"] == str(len(expected))
        status, headers, body = fetch(
            "/static/admin/js/vendor/jquery/jquery.js", {"Range": "bytes=100-199"}
        )
        assert status == 206 and body == expected[100:200]
    log = server.log()
    assert "Traceback" not in log and "Error" not in log, log


BROKEN = {
    "broken/site.css": 'p { color: red }\n@import "theme.css";\n'
    'body { background: url("../img/gone.png"); }\n',
    "broken/app.js": 'import { a } from "./lib/a.js";\nconsole.log(a);\n',
}
BROKEN_REPORTED = [  # sorted by file, then position
    "  broken/app.js:1:20: reference to missing file './lib/a.js' (broken/lib/a.js)",
    "  broken/site.css:2:10: reference to missing file 'theme.css' (broken/theme.css)",
    "  broken/site.css:3:25: reference to missing file '../img/gone.png' (img/gone.png)",
]


def broken_sources(tmp_path: Path) -> Path:
    for name, text in BROKEN.items():
        (tmp_path / "src" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / name).write_text(text)
    return tmp_path / "src"


def test_collectstatic_with_broken_references_fails_naming_all_three(tmp_path: Path) -> None:
    env = django_env(
        STATIC_ROOT=str(tmp_path / "root"), STATICFILES_DIR=str(broken_sources(tmp_path))
    )
    proc = subprocess.run(
        [sys.executable, "-m", "django", "collectstatic", "--noinput"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Post-processing 'broken/app.js, broken/site.css' failed!" in proc.stderr
    report = "MissingReferencesError: 3 references to missing files:\n" + "\n".join(BROKEN_REPORTED)
    assert report in proc.stderr, proc.stderr
    assert 'set STATICSERVE_MISSING_REFERENCES = "warn"' in proc.stderr
    assert not (tmp_path / "root" / "staticfiles.json").exists()


def test_collectstatic_with_the_warn_setting_succeeds_printing_the_same_three(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    env = django_env(
        STATIC_ROOT=str(root), STATICFILES_DIR=str(broken_sources(tmp_path)),
        MISSING_REFERENCES="warn",
    )  # fmt: skip
    out = run(["collectstatic", "--noinput"], env, timeout=180)
    assert (
        "staticserve: 3 references to missing files (left as written):\n"
        + "\n".join(BROKEN_REPORTED)
        in out
    ), out
    assert (root / "staticfiles.json").exists()


@pytest.mark.parametrize("debug", ["0", "1"])
def test_runserver_serves_pages_and_static_files_with_the_storage_set(
    collected: dict[str, Path], debug: str
) -> None:
    root = collected["manifest"]
    env = django_env(STATIC_ROOT=str(root), STORAGE=BACKENDS["manifest"], DEBUG=debug)
    port = free_port()
    with tempfile.NamedTemporaryFile(prefix="runserver-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        proc = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, proc, log_path, timeout=60)
        fetch = http_fetch(f"http://127.0.0.1:{port}")
        status, _, page = fetch("/page/", {})
        assert status == 200, log_path.read_text()
        src = re.search(r'src="/static/([^"]+)"', page.decode()).group(1)
        # Hashed in production, the plain name from the finders with DEBUG.
        assert (src == "app_one/es/main.js") == (debug == "1"), src
        status, _, body = fetch(f"/static/{src}", {})
        assert status == 200
        source = REPO / "tests/django/project/app_one/static/app_one/es/main.js"
        assert body == ((root / src).read_bytes() if debug == "0" else source.read_bytes())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log_text = log_path.read_text(errors="replace")
        log_path.unlink()
    assert "Traceback" not in log_text, log_text


@pytest.mark.skipif(
    os.environ.get("STATICSERVE_SKIP_OTHER_DJANGO") == "1",
    reason="STATICSERVE_SKIP_OTHER_DJANGO=1",
)
@pytest.mark.timeout(600)
def test_other_django_version() -> None:
    """The same Django tests under Django 4.2 LTS, in a cached virtualenv."""
    script = Path(__file__).with_name("run_other_version.sh")
    proc = subprocess.run(
        ["bash", str(script)],
        cwd=REPO,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "Django 4.2" in output and "\nOK" in output, output
