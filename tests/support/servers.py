"""Start real servers (uvicorn, granian, gunicorn, ...) on 127.0.0.1 for tests."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tests.support import gunicorn_ready

REPO = Path(__file__).resolve().parents[2]
GUNICORN_KINDS = ("gunicorn", "gunicorn-gthread")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = log_path.read_text(errors="replace")
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port} within {timeout}s")


def wait_for_workers(
    proc: subprocess.Popen[bytes], log_path: Path, workers: int, timeout: float = 60.0
) -> None:
    """Wait until ``workers`` gunicorn workers have imported the app.

    gunicorn listens before its workers import the app: a connect proves only
    that the arbiter is up. A worker that fails to boot makes the arbiter exit,
    which is raised here with the log (e.g. a staticserve ConfigError). The
    deadline is a hang guard for a very slow start.
    """
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        out = log_path.read_text(errors="replace")
        if out.count(gunicorn_ready.READY) >= workers:
            return
        if proc.poll() is not None:
            out = log_path.read_text(errors="replace")
            raise RuntimeError(f"server exited with {proc.returncode}:\n{out}")
        time.sleep(0.05)
    raise RuntimeError(f"{workers} gunicorn worker(s) not ready within {timeout}s:\n{out}")


def gunicorn_workers(cmd: Sequence[str]) -> int:
    """The number of workers a gunicorn command line starts (the last option wins)."""
    workers = 1
    for option, value in itertools.pairwise(cmd):
        if option in ("--workers", "-w"):
            workers = int(value)
        elif option.startswith("--workers="):
            workers = int(option.partition("=")[2])
    if cmd and cmd[-1].startswith("--workers="):
        workers = int(cmd[-1].partition("=")[2])
    return workers


def server_command(kind: str, target: str, port: int, access_log: bool = False) -> list[str]:
    """The command line running ``target`` ("module:attr") under server ``kind``.

    With ``access_log`` the server prints one line per answered request, each
    containing ``"GET /path`` (see :meth:`Server.answered`).
    """
    py = sys.executable
    bind = ["127.0.0.1", str(port)]
    if kind == "uvicorn":
        logging = ["--log-level", "info", "--access-log"] if access_log else [
            "--log-level", "warning", "--no-access-log"]  # fmt: skip
        return [py, "-m", "uvicorn", target, "--host", bind[0], "--port", bind[1],
                *logging]  # fmt: skip
    if kind in ("granian", "granian-wsgi"):
        interface = "asgi" if kind == "granian" else "wsgi"
        logging = ["--access-log"] if access_log else []
        return [py, "-m", "granian", "--interface", interface, "--host", bind[0], "--port",
                bind[1], "--workers", "1", "--log-level", "warning", *logging,
                target]  # fmt: skip
    logging = ["--access-logfile", "-"] if access_log else []
    # gunicorn kills a worker whose heartbeat is 30 s late; on a loaded CI box that
    # happens without any fault of the code, and a replacement worker may then fail
    # to boot (e.g. while a test has moved the root away). 600 s is only a hang guard.
    logging += ["--timeout", "600"]
    # Each worker prints a line once it has imported the app; running_server
    # waits for it (the arbiter listens before any worker has loaded the app).
    logging += ["--config", f"python:{gunicorn_ready.__name__}"]
    if kind == "gunicorn":
        return [py, "-m", "gunicorn", "--bind", f"{bind[0]}:{bind[1]}", "--workers", "1",
                "--log-level", "warning", *logging, target]  # fmt: skip
    if kind == "gunicorn-gthread":
        return [py, "-m", "gunicorn", "--bind", f"{bind[0]}:{bind[1]}", "--workers", "1",
                "--threads", "8", "--worker-class", "gthread", "--log-level", "warning",
                *logging, target]  # fmt: skip
    raise ValueError(kind)


def stop_process(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, then SIGKILL if it has not ended within 10 s (a hang guard).

    A process started with ``start_new_session=True`` leads its own group, and
    the signals go to the whole group (gunicorn's and granian's workers).
    """
    try:
        group = os.getpgid(proc.pid) == proc.pid
    except ProcessLookupError:
        group = False  # already gone and reaped
    _signal(proc, signal.SIGTERM, group)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL, group)
        proc.wait()


def _signal(proc: subprocess.Popen[Any], sig: signal.Signals, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)


class Server:
    """A started server: its base URL, its process, and what it has logged."""

    def __init__(self, kind: str, url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.kind = kind  # "uvicorn", "granian-wsgi", ... (as given to running_server)
        self.url = url
        self.proc = proc
        self.log_path = log_path
        self.final_log: str | None = None

    def log(self) -> str:
        """Everything the server printed (also after it has stopped)."""
        if self.final_log is not None:
            return self.final_log
        return self.log_path.read_text(errors="replace")

    def pids(self) -> list[int]:
        """The server's process and all its descendants (workers)."""
        found, queue = [], [self.proc.pid]
        while queue:
            pid = queue.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                with contextlib.suppress(OSError):
                    queue.extend(int(c) for c in (task / "children").read_text().split())
        return found

    def open_connections(self) -> int:
        """Sockets the server's processes hold other than listening and Unix ones.

        That is the client connections, including ones the peer has already
        reset (gone from /proc/net/tcp, but open until the server closes them).
        Listening sockets and Unix socketpairs (gunicorn's arbiter makes some
        as it goes) are left out.
        """
        own = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A":  # LISTEN
                        own.add(fields[9])
        with contextlib.suppress(OSError):
            own.update(
                line.split()[6] for line in Path("/proc/net/unix").read_text().splitlines()[1:]
            )
        held = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        link = os.readlink(fd)
                        held += link.startswith("socket:[") and link[8:-1] not in own
        return held

    def answered(self, method: str = "GET") -> int:
        """Requests the server logged as answered (needs ``access_log=True``)."""
        return self.log().count(f'"{method} /')


@contextlib.contextmanager
def running_server(
    kind: str,
    target: str,
    env: dict[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    extra_args: Sequence[str] = (),
    access_log: bool = False,
) -> Iterator[Server]:
    """Run ``target`` under server ``kind``; yields a Server; stops it after.

    ``env`` is added to the environment (the app module reads its settings from
    there, since every server imports the app in its own process).
    """
    full_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(cwd or REPO)])}
    full_env.update(env or {})
    for attempt in range(3):
        port = free_port()
        cmd = [*server_command(kind, target, port, access_log), *extra_args]
        log_file = tempfile.NamedTemporaryFile(prefix=f"{kind}-", suffix=".log", delete=False)  # noqa: SIM115
        proc = subprocess.Popen(
            cmd,
            env=full_env,
            cwd=cwd or REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        log_path = Path(log_file.name)
        server = Server(kind, f"http://127.0.0.1:{port}", proc, log_path)
        # free_port() can race with another process taking the same port (other
        # test runs on the machine): then a connect succeeds to *their*
        # listener. Only a listening socket held by this server counts.
        if _owns_listener(server, port) or attempt == 2:
            break
        stop_process(proc)
        log_path.unlink(missing_ok=True)
    try:
        wait_for_port(port, proc, log_path)
        if kind in GUNICORN_KINDS:
            wait_for_workers(proc, log_path, gunicorn_workers(cmd))
        yield server
    finally:
        stop_process(proc)
        server.final_log = log_path.read_text(errors="replace")
        log_path.unlink(missing_ok=True)


def _owns_listener(server: Server, port: int, timeout: float = 60.0) -> bool:
    """Whether the server comes to hold the listening socket on ``port``.

    False if it exits first (e.g. "address in use") or another process holds
    the port; the deadline is a hang guard for a very slow start.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.proc.poll() is None:
        listening = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(OSError):
                for line in Path(table).read_text().splitlines()[1:]:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        listening.add(fields[9])
        for pid in server.pids():
            with contextlib.suppress(OSError):
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd)[8:-1] in listening:
                            return True
        time.sleep(0.05)
    return False
