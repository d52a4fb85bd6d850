"""examples/docker/Dockerfile, step by step, without a Docker daemon.

Each stage gets its own directory standing in for ``/``; ``WORKDIR``, ``COPY``
(from the build context or ``--from`` an earlier stage), ``ENV`` and ``RUN`` are
carried out there, absolute paths of the image (``/app``, ``/opt/...``) mapped
into that directory, with this machine's Python standing in for the image's.
The earlier stages are deleted before the final stage's ``CMD`` starts, so the
runtime stage must hold everything it needs. ``FROM``'s image, ``USER`` and
``EXPOSE`` are not simulated. With a Docker daemon, ``docker build`` is the real
test: this one checks the commands.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port, wait_for_port
from tests.wheel import project_wheel

# A hang guard, not a measure: building a wheel, a venv or an image takes minutes
# on a loaded machine, past the suite's default 120 s.
pytestmark = pytest.mark.timeout(900)

CONTEXT = Path(__file__).resolve().parents[2] / "examples" / "docker"
IMAGE_PATHS = re.compile(r"(?<![\w./-])/(app|opt)(?=[/\s\"':]|$)")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        pending += line
        keyword, _, args = pending.partition(" ")
        out.append((keyword.upper(), args.strip()))
        pending = ""
    return out


class Stage:
    def __init__(self, root: Path, name: str | None) -> None:
        self.root, self.name = root, name
        self.workdir = "/"
        self.env: dict[str, str] = {}

    def map(self, text: str) -> str:
        return IMAGE_PATHS.sub(lambda m: f"{self.root}/{m.group(1)}", text)

    def path(self, image_path: str) -> Path:
        if not image_path.startswith("/"):
            image_path = self.workdir.rstrip("/") + "/" + image_path
        return Path(
            self.map(image_path)
            if IMAGE_PATHS.match(image_path)
            else self.root / image_path.lstrip("/")
        )

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        # The image's python: this machine's (the test venv's bin is not on PATH).
        env["PATH"] = f"{Path(sys.base_prefix) / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        for key, value in self.env.items():
            env[key] = value.replace("$PATH", env.get("PATH", ""))
        return env


def _copy(src: Path, dest: Path, dest_text: str) -> None:
    if src.is_dir():
        shutil.copytree(src, dest, symlinks=True, dirs_exist_ok=True)
    else:
        target = dest / src.name if dest_text.endswith("/") or dest.is_dir() else dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)


def run_dockerfile(context: Path, base: Path) -> tuple[Stage, list[str]]:
    """Carry out every stage; returns the last stage and its CMD (mapped)."""
    stages: list[Stage] = []
    cmd: list[str] = []
    for keyword, args in instructions(context / "Dockerfile"):
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            stages.append(Stage(base / f"stage{len(stages)}", name))
            stages[-1].root.mkdir(parents=True)
            continue
        stage = stages[-1]
        if keyword == "WORKDIR":
            stage.workdir = args
            stage.path(".").mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                stage.env[key] = stage.map(value)
        elif keyword == "COPY":
            words = shlex.split(args)
            source_stage = None
            if words[0].startswith("--from="):
                wanted = words.pop(0).split("=", 1)[1]
                source_stage = next(s for s in stages if s.name == wanted)
            *sources, dest_text = words
            dest = stage.path(dest_text)
            for source in sources:
                src = source_stage.path(source) if source_stage else context / source
                _copy(src, dest, dest_text)
        elif keyword == "RUN":
            done = subprocess.run(
                ["bash", "-c", f"set -e; {stage.map(args)}"],
                cwd=stage.path("."),
                env=stage.environ(),
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert done.returncode == 0, f"RUN {args}\n{done.stdout}\n{done.stderr}"
        elif keyword == "CMD":
            cmd = [stage.map(word) for word in json.loads(args)]
        elif keyword in ("USER", "EXPOSE", "ARG", "LABEL"):
            continue
        else:
            pytest.fail(f"instruction {keyword} is not simulated; extend this test")
    return stages[-1], cmd


def test_the_dockerfile_builds_and_its_runtime_stage_serves(tmp_path: Path) -> None:
    context = tmp_path / "context"
    shutil.copytree(CONTEXT, context)
    # Until the first release: the wheel of this checkout, where the README says.
    shutil.copy2(project_wheel(tmp_path / "wheel"), context / "wheels")
    runtime, cmd = run_dockerfile(context, tmp_path / "fs")
    assert (runtime.path("static") / "staticfiles.json").is_file()
    assert not (runtime.path("assets")).exists()  # sources stay in the build stage
    for earlier in tmp_path.joinpath("fs").iterdir():
        if earlier != runtime.root:
            shutil.rmtree(earlier)
    # Run the CMD with the runtime venv's python (script shebangs name /opt/venv,
    # which here is a directory under the stage), on a free local port.
    port = free_port()
    program = shutil.which(cmd[0], path=runtime.environ()["PATH"])
    assert program is not None and program.startswith(str(runtime.root)), cmd
    args = [a.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for a in cmd[1:]]
    python = Path(program).parent / "python"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(python), "-m", cmd[0], *args],
            cwd=runtime.path("."),
            env=runtime.environ(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port, proc, log, timeout=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=20) as client:
            assert "Hello from Docker" in client.get("/").text
            css = client.get("/static/css/site.css", headers={"Accept-Encoding": "br"})
            assert css.status_code == 200 and css.headers["content-encoding"] == "br"
    finally:
        proc.terminate()
        proc.wait(20)
