"""Commands the docs harness (tests/test_docs.py) puts in place of doc commands it cannot run as-is.

Run as a script from the generated shell script, never imported by the suite::

    python docs_helper.py serve PORT PATH STATUS -- COMMAND...
        start COMMAND (a server) in the background, wait until it listens on PORT,
        GET PATH and check the status (STATUS "any" = any answer below 500), stop it.
    python docs_helper.py pip ARGS...
        check a documented ``pip install`` line instead of running it: it must name
        this project by its distribution name (or a checkout: ``.``/``-e .``) with
        extras that exist, and every other package it names must already be
        installed here (so the snippet's imports are really tested).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]
DIST_NAME = "staticserve-http"
START_TIMEOUT = 150.0  # hang guard: a loaded CI box can take long to start a server


def serve(port: int, path: str, status: str, command: list[str]) -> int:
    log = Path(tempfile.gettempdir()) / f"docs-server-{os.getpid()}-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                print(f"server {command} exited with {proc.returncode} before listening:")
                print(log.read_text(errors="replace"))
                return 1
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
                break
            if time.monotonic() > deadline:
                print(f"server {command} did not listen on {port} within {START_TIMEOUT}s")
                print(log.read_text(errors="replace"))
                return 1
            time.sleep(0.05)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
        except (OSError, http.client.HTTPException) as exc:
            print(f"probe GET {path} on {command}: no HTTP answer ({exc!r}); server log:")
            print(log.read_text(errors="replace"))
            return 1
        ok = response.status < 500 if status == "any" else response.status == int(status)
        print(f"probe GET {path} -> {response.status} ({command[0]} on port {port})")
        if not ok:
            print(f"expected {status}; server log:\n{log.read_text(errors='replace')}")
            return 1
        return 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.unlink(missing_ok=True)


_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[([^\]]*)\])?(.*)$")


def _extras() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return set(project.get("optional-dependencies", {}))


def check_pip(args: list[str]) -> int:
    if not args or args[0] != "install":
        print(f"pip {' '.join(args)}: only `pip install` lines are understood; mark the block")
        return 1
    problems = []
    known = _extras()
    for arg in args[1:]:
        if arg.startswith("-") and arg not in ("-e", "--editable"):
            if arg in ("-r", "--requirement", "-c", "--constraint"):
                problems.append(f"{arg}: requirement files cannot be checked; mark the block")
            continue
        if arg in ("-e", "--editable"):
            continue
        checkout = re.match(r"^\.(\[([^\]]*)\])?$", arg)
        match = checkout or _REQ.match(arg)
        if match is None:
            problems.append(f"{arg!r} is not a requirement this check understands")
            continue
        name = "." if checkout else match.group(1)
        extras = {
            e.strip() for e in (match.group(2) if checkout else match.group(3) or "").split(",")
        }
        extras.discard("")
        if name == "." or name.lower().replace("_", "-") == DIST_NAME:
            unknown = extras - known
            if unknown:
                problems.append(f"{arg}: no such extra {sorted(unknown)}; known: {sorted(known)}")
        elif name.lower() == "staticserve":
            problems.append(
                f"{arg}: `staticserve` on the package index is an unrelated project; "
                f"install {DIST_NAME}"
            )
        else:
            try:
                metadata.distribution(name)
            except metadata.PackageNotFoundError:
                problems.append(f"{arg}: not installed here; add it to the [test] extra")
    for problem in problems:
        print(f"pip install: {problem}")
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if argv[0] == "serve":
        port, path, status, sep, *command = argv[1:]
        assert sep == "--"
        return serve(int(port), path, status, command)
    if argv[0] == "pip":
        return check_pip(argv[1:])
    print(f"unknown helper command {argv[0]!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
