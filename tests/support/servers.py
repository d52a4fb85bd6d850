"""Start real servers (uvicorn, granian, gunicorn, ...) on 127.0.0.1 for tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout}s")


def server_command(kind: str, target: str, port: int) -> list[str]:
    """The command line running ``target`` ("module:attr") under server ``kind``."""
    py = sys.executable
    bind = ["127.0.0.1", str(port)]
    if kind == "uvicorn":
        return [py, "-m", "uvicorn", target, "--host", bind[0], "--port", bind[1],
                "--log-level", "warning", "--no-access-log"]  # fmt: skip
    if kind == "granian":
        return [py, "-m", "granian", "--interface", "asgi", "--host", bind[0], "--port",
                bind[1], "--workers", "1", "--log-level", "warning", target]  # fmt: skip
    if kind == "granian-wsgi":
        return [py, "-m", "granian", "--interface", "wsgi", "--host", bind[0], "--port",
                bind[1], "--workers", "1", "--log-level", "warning", target]  # fmt: skip
    if kind == "gunicorn":
        return [py, "-m", "gunicorn", "--bind", f"{bind[0]}:{bind[1]}", "--workers", "1",
                "--log-level", "warning", target]  # fmt: skip
    if kind == "gunicorn-gthread":
        return [py, "-m", "gunicorn", "--bind", f"{bind[0]}:{bind[1]}", "--workers", "1",
                "--threads", "8", "--worker-class", "gthread", "--log-level", "warning",
                target]  # fmt: skip
    raise ValueError(kind)


@contextlib.contextmanager
def running_server(
    kind: str,
    target: str,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run ``target`` under server ``kind``; yields its base URL; stops it after.

    ``env`` is added to the environment (the app module reads its settings from
    there, since every server imports the app in its own process).
    """
    port = free_port()
    cmd = [*server_command(kind, target, port), *extra_args]
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(cwd or REPO)])}
    full_env.update(env or {})
    proc = subprocess.Popen(
        cmd,
        env=full_env,
        cwd=cwd or REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if proc.stdout:
            proc.stdout.close()


def server_output(proc: subprocess.Popen[bytes]) -> str:
    return proc.stdout.read().decode(errors="replace") if proc.stdout else ""
