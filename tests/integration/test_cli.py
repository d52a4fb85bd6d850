"""`staticserve serve` as users run it: a subprocess on a real port."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import StaticTree, make_static_tree
from tests.support.servers import REPO, free_port, stop_process

pytestmark = pytest.mark.timeout(60)


def staticserve_command() -> list[str]:
    script = Path(sys.executable).with_name("staticserve")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from staticserve.cli import main; sys.exit(main())"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*staticserve_command(), *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )


@contextlib.contextmanager
def serving(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start `staticserve serve ...`; yield (first stdout line, process)."""
    proc = subprocess.Popen(
        [*staticserve_command(), "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        yield line, proc
    finally:
        stop_process(proc)


def wait_until_listening(port: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise AssertionError(f"staticserve serve did not listen on {port}")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> StaticTree:
    return make_static_tree(tmp_path_factory.mktemp("cli"), big_size=1024 * 1024)


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_prints_the_url_and_serves_the_root(tree: StaticTree, server: str) -> None:
    port = free_port()
    with serving(str(tree.root), "--port", str(port), "--server", server) as (line, proc):
        assert f"http://127.0.0.1:{port}/" in line
        wait_until_listening(port, proc)
        url = line[line.index("http://") :].strip()
        with httpx.Client(base_url=url, timeout=10) as client:
            response = client.get("css/site.css")
            assert response.status_code == 200
            assert response.content == tree.read("css/site.css")
            assert response.headers["content-encoding"] in ("br", "gzip", "zstd")
            assert client.get("docs/").content == tree.read("docs/index.html")
            assert client.get("missing.txt").status_code == 404


def test_serve_honours_the_prefix(tree: StaticTree) -> None:
    port = free_port()
    with serving(str(tree.root), "--port", str(port), "--prefix", "/assets") as (line, proc):
        assert f"http://127.0.0.1:{port}/assets/" in line
        wait_until_listening(port, proc)
        response = httpx.get(f"http://127.0.0.1:{port}/assets/img/logo.png", timeout=10)
        assert response.content == tree.read("img/logo.png")


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("staticserve")


def test_serve_missing_root_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli("serve", str(tmp_path / "nope"), "--port", str(free_port()))
    assert_one_line_error(result)
    assert "nope" in result.stderr


def test_serve_port_in_use_is_a_one_line_error(tree: StaticTree) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("serve", str(tree.root), "--port", str(port))
    assert_one_line_error(result)
    assert str(port) in result.stderr


@pytest.mark.parametrize("port", ["0", "-1", "70000"])
def test_serve_port_out_of_range_is_a_one_line_error(tree: StaticTree, port: str) -> None:
    result = run_cli("serve", str(tree.root), "--port", port)
    assert_one_line_error(result)
    assert f"--port {port}" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), "no-store"),
        (("--miss-cache-control", "public, max-age=10"), "public, max-age=10"),
        (("--miss-cache-control", ""), None),
    ],
)
@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_sends_the_miss_cache_control_on_a_404(
    tree: StaticTree, server: str, args: tuple[str, ...], expected: str | None
) -> None:
    port = free_port()
    command = (str(tree.root), "--port", str(port), "--server", server, *args)
    with serving(*command) as (_, proc):
        wait_until_listening(port, proc)
        response = httpx.get(f"http://127.0.0.1:{port}/missing.txt", timeout=10)
        assert response.status_code == 404
        assert response.headers.get("cache-control") == expected
        hit = httpx.get(f"http://127.0.0.1:{port}/css/site.css", timeout=10)
        assert hit.headers["cache-control"] == "public, max-age=60"


def test_serve_refuses_a_miss_cache_control_that_is_no_header_value(tree: StaticTree) -> None:
    result = run_cli("serve", str(tree.root), "--port", str(free_port()),
                     "--miss-cache-control", "no-store\r\nX: y")  # fmt: skip
    assert_one_line_error(result)
    assert "miss_cache_control" in result.stderr
