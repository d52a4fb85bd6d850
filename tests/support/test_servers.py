"""The test-server harness: a started server has loaded its app.

A test may change the files a server indexes as soon as ``running_server``
returns; that is only sound if every worker has imported the app (and so
built its index) by then. gunicorn listens before its workers import the app,
which once made the fault tests kill gunicorn-gthread (the root moved away
before the worker's start-up check: "Worker failed to boot").
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.servers import GUNICORN_KINDS, gunicorn_workers, running_server

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize("kind", [*GUNICORN_KINDS, "uvicorn", "granian-wsgi"])
def test_running_server_returns_once_the_app_is_imported(kind: str, tmp_path: Path) -> None:
    mark = tmp_path / "imported"
    target = "tests.support.slow_app:app"
    extra = ["--interface", "wsgi"] if kind == "uvicorn" else []
    env = {"SLOW_APP_MARK": str(mark), "SLOW_APP_DELAY": "1"}
    with running_server(kind, target, env=env, extra_args=extra) as server:
        assert mark.exists()  # before any request: the import is done
        assert httpx.get(server.url + "/", timeout=10).content == b"ok\n"


def test_running_server_waits_for_every_gunicorn_worker(tmp_path: Path) -> None:
    env = {"SLOW_APP_MARK": str(tmp_path / "imported"), "SLOW_APP_DELAY": "1"}
    with running_server(
        "gunicorn", "tests.support.slow_app:app", env=env, extra_args=["--workers", "2"]
    ) as server:
        pids = set(server.pids()) - {server.proc.pid}
        assert len(pids) == 2
        log = server.log()
        assert all(f"worker loaded the app, pid {pid}" in log for pid in pids), log


@pytest.mark.parametrize("kind", GUNICORN_KINDS)
def test_a_gunicorn_worker_that_cannot_boot_is_a_startup_error_with_the_log(
    kind: str, tmp_path: Path
) -> None:
    # A missing static root is a ConfigError when the worker imports the app.
    env = {"HARDEN_ROOT": str(tmp_path / "missing"), "HARDEN_OPTIONS": "{}"}
    with (
        pytest.raises(RuntimeError, match="is not a directory"),
        running_server(kind, "tests.hardening.apps:wsgi_standalone", env=env),
    ):
        pass


@pytest.mark.parametrize(
    ("cmd", "workers"),
    [
        (["gunicorn", "app:app"], 1),
        (["gunicorn", "--workers", "1", "app:app", "--workers", "3"], 3),
        (["gunicorn", "-w", "2", "app:app"], 2),
        (["gunicorn", "app:app", "--workers=4"], 4),
    ],
)
def test_gunicorn_workers_reads_the_last_workers_option(cmd: list[str], workers: int) -> None:
    assert gunicorn_workers(cmd) == workers
