"""Every documented command works as written.

Collects each fenced ``sh``/``bash``/``shell``/``console`` and ``python`` block of
README.md and docs/*.md and runs it the way a reader would, from a plain
application directory outside this checkout (a fresh copy per block):

* ``examples/app/`` (the framework recipes and a small Django project,
  ``manage.py`` + ``mysite/``),
* ``assets/`` and ``examples/src/``: the bundled example site,
* ``node_modules/htmx.org/dist/htmx.min.js``: a vendored file, as a bundler leaves it,
* ``dist/`` and ``frontend/dist/``: a Vite build (tests/bundlers/vite-app/dist),
* ``static/``: ``assets/`` already built (``staticserve build assets --out static``).

Shell blocks run in bash with this venv's ``bin`` first on ``PATH`` (so ``python``,
``staticserve``, ``gunicorn``... are the installed ones; PYTHONPATH is unset).
A command that starts a server (``staticserve serve``, gunicorn, uvicorn,
granian, ``manage.py runserver``, ``flask run``...) is started in the
background on a free port (its port option is rewritten), probed with a GET
and stopped. A ``pip install`` line is checked, not run: it must install this
project under its distribution name (or a checkout) with extras that exist,
and every other package it names must be installed here. In ``console``
blocks only ``$ `` lines are commands; the lines under one are its sample
output, which must be what the command prints (the app directory written as
``/srv/app``).

Python blocks: a Django settings fragment (it assigns ``INSTALLED_APPS``,
``MIDDLEWARE``, ``STORAGES``, ``STATIC_*`` or ``STATICSERVE_*``) is appended to
``mysite/settings.py``, checked with ``python manage.py check``, collected with
``collectstatic`` and the WSGI handler is loaded (every middleware starts); any other
block is executed as a script in the app directory (with Django set up when it
mentions django).

Markers, on the line(s) directly above a fence:

* ``<!-- docs-test: skip: REASON -->``: not run (a reason is required);
* ``<!-- docs-test: file: PATH -->``: the block must equal the repository file
  PATH byte for byte (the file is the code a test runs, e.g. a recipe);
* ``<!-- docs-test: probe: URLPATH [STATUS] -->``: what to GET from the servers
  the block starts (default ``/``, any status below 500).

A block the harness cannot run (docker, apt-get, the test suite itself, a
command that never ends) fails the test unless it is marked.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.servers import free_port

REPO = Path(__file__).resolve().parents[1]
HELPER = Path(__file__).resolve().with_name("docs_helper.py")
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
LANGS = {
    "sh": "shell",
    "bash": "shell",
    "shell": "shell",
    "console": "console",
    "python": "python",
    "py": "python",
}
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*([a-z-]+)\s*(?::\s*(.*?))?\s*-->\s*$")
MARKER_KINDS = {"skip", "file", "probe"}
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([^\s`]*)")
BLOCK_TIMEOUT = 180
PARALLEL_BLOCKS = 2  # CI has 2 cores; starting servers is mostly CPU (imports)

# Commands that start a server (never end by themselves).
SERVERS = {"gunicorn", "uvicorn", "granian", "flask", "litestar", "fastapi", "django-admin"}
# Commands a docs test cannot run here: the block needs a skip marker.
CANNOT_RUN = {
    "sudo": "needs root on the reader's machine",
    "apt-get": "installs system packages",
    "apt": "installs system packages",
    "brew": "installs system packages",
    "docker": "needs a Docker daemon",
    "podman": "needs a container runtime",
    "pytest": "is this test suite itself",
    "git": "needs the network or the reader's repository",
}
SETTINGS_FRAGMENT = re.compile(
    r"^(INSTALLED_APPS|MIDDLEWARE|STORAGES|STATIC_URL|STATIC_ROOT|STATICFILES_\w+|"
    r"STATICSERVE_\w+)\s*(=|\+=|\.)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def parse_blocks(doc: Path) -> list[Block]:
    """Every fenced block of ``doc`` with the markers directly above it."""
    lines = doc.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence, lang = match.groups()
        body = []
        j = i + 1
        while j < len(lines) and not (
            lines[j].strip().startswith(fence) and lines[j].strip().strip(fence[0]) == ""
        ):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        markers: dict[str, str] = {}
        k = i - 1
        while k >= 0 and (m := MARKER.match(lines[k])):
            markers.setdefault(m.group(1), m.group(2) or "")
            k -= 1
        blocks.append(Block(doc, i + 1, lang.lower(), "\n".join(body) + "\n", markers))
        i = j + 1
    return blocks


def runnable_blocks() -> list[Block]:
    """The blocks to run, and (in any language) those that must equal a file."""
    return [b for doc in DOCS for b in parse_blocks(doc) if b.lang in LANGS or "file" in b.markers]


BLOCKS = runnable_blocks()


# -- the application directory every block runs in ---------------------------


@pytest.fixture(scope="session")
def app_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("docs-app-template") / "app"
    if (REPO / "examples" / "app").is_dir():
        shutil.copytree(REPO / "examples" / "app", base, ignore=_ignore_caches)
    base.mkdir(exist_ok=True)
    shutil.copytree(REPO / "examples" / "src", base / "assets")
    shutil.copytree(REPO / "examples" / "src", base / "examples" / "src")
    # A bundler's output (a committed Vite build), where bundler docs put it.
    vite = REPO / "tests" / "bundlers" / "vite-app" / "dist"
    if vite.is_dir():
        shutil.copytree(vite, base / "dist")
        shutil.copytree(vite, base / "frontend" / "dist")
    vendor = base / "node_modules" / "htmx.org" / "dist"
    vendor.mkdir(parents=True)
    (vendor / "htmx.min.js").write_text("/* a vendored library */\nvar htmx = {};\n")
    built = _run(["staticserve", "build", "-q", "assets", "--out", "static"], base)
    assert built.returncode == 0, built.stdout
    return base


def _ignore_caches(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in ("__pycache__", "static", "staticfiles") or n.endswith(".pyc")}


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST")
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["DOCS_PY"] = sys.executable
    env["DOCS_HELPER"] = str(HELPER)
    return env


def _run(
    cmd: list[str], cwd: Path, timeout: float = BLOCK_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


# -- shell blocks -------------------------------------------------------------


class CannotRun(Exception):
    """The block has a command this harness cannot run: it needs a skip marker."""


def shell_commands(block: Block) -> list[str]:
    """The commands of a block, continuation lines joined; console output dropped."""
    return [command for command, _ in commands_and_samples(block)]


def commands_and_samples(block: Block) -> list[tuple[str, list[str]]]:
    """Each command of a block with the sample output shown under it (console only)."""
    pairs: list[tuple[str, list[str]]] = []
    pending: str | None = None
    for raw in block.text.splitlines():
        line = raw.rstrip()
        if pending is None:
            if block.lang == "console":
                if not line.startswith("$ "):
                    if pairs:
                        pairs[-1][1].append(line)
                    continue
                line = line[2:]
            if not line.strip():
                continue
            pending = ""
        pending += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            pairs.append((pending, []))
            pending = None
    if pending:
        pairs.append((pending, []))
    return [(command, _trim_blank(sample)) for command, sample in pairs]


def _trim_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


SAMPLE_APP_DIR = "/srv/app"  # how console samples write the reader's app directory


def sample_file(index: int) -> str:
    """Where the script of a console block keeps command ``index``'s output."""
    return f".docs-output-{index}"


def sample_mismatches(block: Block, app: Path) -> list[str]:
    """Each console command whose output is not the sample shown under it."""
    problems = []
    for index, (command, sample) in enumerate(commands_and_samples(block)):
        if not sample:
            continue
        printed = (app / sample_file(index)).read_text(encoding="utf-8")
        for real in sorted({str(app.resolve()), str(app)}, key=len, reverse=True):
            printed = printed.replace(real, SAMPLE_APP_DIR)
        lines = _trim_blank([line.rstrip() for line in printed.splitlines()])
        if lines != sample:
            problems.append(
                f"`{command}` prints:\n"
                + "\n".join(lines)
                + "\n--- the doc shows:\n"
                + "\n".join(sample)
            )
    return problems


def _strip_comment(command: str) -> str:
    quote = None
    for i, ch in enumerate(command):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command


def _split_segments(command: str) -> list[str]:
    """Split on unquoted ``&&``, ``||``, ``;`` and ``|``, keeping the separators."""
    parts: list[str] = []
    quote = None
    start = i = 0
    while i < len(command):
        ch = command[i]
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif command.startswith(("&&", "||"), i):
            parts += [command[start:i], command[i : i + 2]]
            i += 2
            start = i
            continue
        elif ch in ";|":
            parts += [command[start:i], ch]
            start = i + 1
        i += 1
    parts.append(command[start:])
    return parts


def _program(tokens: list[str]) -> tuple[list[str], list[str]]:
    """(leading VAR=value tokens, the command) of a simple command."""
    env = []
    while tokens and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", tokens[0]):
        env.append(tokens[0])
        tokens = tokens[1:]
    return env, tokens


def _is_python(word: str) -> bool:
    return re.fullmatch(r"python(3(\.\d+)?)?", word) is not None


def _drop_options(text: str, *names: str) -> str:
    """``text`` without the options ``names`` and their values (``--port 8000``, ``-b x``)."""
    for name in names:
        text = re.sub(rf"(?<=\s){re.escape(name)}(=|\s+)?\S+", "", text)
    return text


def server_command(segment: str, tokens: list[str], port: int) -> str | None:
    """``segment`` (shell text) with its port set to ``port``, or None if not a server.

    The text is kept as written (quotes, ``$VARS``); only the port option is replaced.
    """
    words = (
        tokens[2:] if len(tokens) > 2 and _is_python(tokens[0]) and tokens[1] == "-m" else tokens
    )
    if not words:
        return None
    head, rest = words[0], words[1:]
    text = " " + segment.strip()
    if head == "staticserve" and rest[:1] == ["serve"]:
        return f"{_drop_options(text, '--port')} --port {port}"
    if head == "gunicorn":
        return f"{_drop_options(text, '--bind', '-b')} --bind 127.0.0.1:{port}"
    if head in ("uvicorn", "granian") or (
        head in ("flask", "litestar", "fastapi") and rest[:1] in (["run"], ["dev"])
    ):
        return f"{_drop_options(text, '--port')} --port {port}"
    if head == "http.server":
        return re.sub(r"\s\d+(?=\s|$)", "", text) + f" {port}"
    manage = (_is_python(tokens[0]) and tokens[1:2] == ["manage.py"]) or head == "django-admin"
    if manage and "runserver" in tokens:
        text = re.sub(r"(runserver)(\s+[^\s-]\S*)?", r"\1", text)
        return text.replace("runserver", f"runserver 127.0.0.1:{port} --noreload", 1)
    return None


def shell_script(block: Block) -> str:
    """The bash script that runs ``block`` (raises CannotRun)."""
    probe = block.markers.get("probe", "/").split()
    path, status = probe[0], probe[1] if len(probe) > 1 else "any"
    out = ["set -e -o pipefail"]
    for index, command in enumerate(shell_commands(block)):
        pieces = []
        for part in _split_segments(_strip_comment(command)):
            if part in ("&&", "||", ";", "|"):
                pieces.append(part)
                continue
            pieces.append(_rewrite(part, path, status))
        line = " ".join(pieces)
        if block.lang == "console":  # kept, to hold against the sample shown under it
            line = f"{{ {line}; }} 2>&1 | tee {sample_file(index)}"
        out.append(line)
    return "\n".join(out) + "\n"


def _rewrite(segment: str, path: str, status: str) -> str:
    try:
        tokens = shlex.split(segment)
    except ValueError as exc:
        raise CannotRun(f"cannot parse {segment!r}: {exc}") from None
    env, words = _program(tokens)
    if not words:
        return segment
    head = words[0]
    if head in ("pip", "pip3") or (_is_python(head) and words[1:3] == ["-m", "pip"]):
        args = words[1:] if head.startswith("pip") else words[3:]
        return " ".join(['"$DOCS_PY" "$DOCS_HELPER" pip', *map(shlex.quote, args)])
    if head in CANNOT_RUN or (_is_python(head) and words[1:3] == ["-m", "pytest"]):
        name = head if head in CANNOT_RUN else "pytest"
        raise CannotRun(f"`{segment.strip()}`: {CANNOT_RUN[name]}")
    port = free_port()
    server = server_command(segment, words, port)
    if server is not None:
        if env:  # VAR=value before the command: the helper runs it through env(1)
            server = " env " + server.strip()
        return f'"$DOCS_PY" "$DOCS_HELPER" serve {port} {shlex.quote(path)} {status} --{server}'
    return segment


# -- python blocks ------------------------------------------------------------


def run_python(block: Block, app: Path) -> subprocess.CompletedProcess[str]:
    if SETTINGS_FRAGMENT.search(block.text):
        settings = app / "mysite" / "settings.py"
        if not settings.is_file():
            pytest.fail(
                f"{block.where}: a settings fragment, but the app has no mysite/settings.py"
            )
        settings.write_text(
            settings.read_text() + "\n\n# ---- the docs block ----\n" + block.text,
            encoding="utf-8",
        )
        # check, then collect (imports the storage backend) and load the WSGI
        # handler (imports and starts every middleware), as a deploy would.
        script = (
            '"$DOCS_PY" manage.py check --fail-level ERROR'
            ' && "$DOCS_PY" manage.py collectstatic --noinput -v 0'
            ' && "$DOCS_PY" -c "import mysite.wsgi"'
        )
        return _run(["bash", "-c", script], app)
    prelude = ""
    if "django" in block.text:
        prelude = (
            "import os, django\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\n"
            "django.setup()\n"
        )
    script = app / "docs_block.py"
    script.write_text(prelude + block.text, encoding="utf-8")
    return _run([sys.executable, str(script)], app)


# -- the tests ----------------------------------------------------------------


def run_block(block: Block, app_template: Path, workdir: Path) -> str | None:
    """Run one block in a fresh copy of the app directory; None, or why it failed."""
    app = workdir / "app"
    shutil.copytree(app_template, app, symlinks=True)
    if LANGS[block.lang] == "python":
        what = block.text
        try:
            done = run_python(block, app)
        except subprocess.TimeoutExpired:
            return f"{block.where}: did not finish within {BLOCK_TIMEOUT}s"
    else:
        try:
            what = shell_script(block)
        except CannotRun as exc:
            return (
                f"{block.where}: {exc}; run it differently, or put "
                "<!-- docs-test: skip: REASON --> directly above the fence"
            )
        (app / "docs_block.sh").write_text(what, encoding="utf-8")
        try:
            done = _run(["bash", "docs_block.sh"], app)
        except subprocess.TimeoutExpired:
            return f"{block.where}: did not finish within {BLOCK_TIMEOUT}s:\n{what}"
    if done.returncode != 0:
        return (
            f"{block.where} failed (exit {done.returncode}) in {app}\n--- ran:\n{what}\n"
            f"--- output:\n{done.stdout}"
        )
    if block.lang == "console" and (problems := sample_mismatches(block, app)):
        return f"{block.where}: the sample output is not what the command prints:\n" + (
            "\n".join(problems)
        )
    return None


def _to_run(block: Block) -> bool:
    return "skip" not in block.markers and "file" not in block.markers


class BlockRuns:
    """Runs the selected blocks two at a time: the one a test asks for and the next one.

    The blocks are independent (each gets its own copy of the app directory and
    its own ports) and most of their time is spent waiting for processes to
    start, so running them side by side keeps this test quick. Under
    pytest-xdist a worker does not know which blocks it will get: there each
    block runs when its test does.
    """

    def __init__(self, selected: list[Block], template: Path, factory: pytest.TempPathFactory):
        self.selected, self.template, self.factory = selected, template, factory
        self.results: dict[str, str | None] = {}

    def result(self, block: Block) -> str | None:
        if block.where not in self.results:
            batch = [block]
            if not os.environ.get("PYTEST_XDIST_WORKER"):
                # A small batch: each test stays within the per-test timeout.
                others = [b for b in self.selected if b.where not in self.results and b != block]
                batch += others[: PARALLEL_BLOCKS - 1]
            with ThreadPoolExecutor(max_workers=PARALLEL_BLOCKS) as pool:
                futures = {
                    b.where: pool.submit(run_block, b, self.template, self.factory.mktemp("block"))
                    for b in batch
                }
                self.results.update({where: f.result() for where, f in futures.items()})
        return self.results[block.where]


@pytest.fixture(scope="session")
def block_runs(
    request: pytest.FixtureRequest, app_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> BlockRuns:
    selected = [
        item.callspec.params["block"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_documented_block_runs_as_written"
    ]
    return BlockRuns([b for b in selected if _to_run(b)], app_template, tmp_path_factory)


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
def test_documented_block_runs_as_written(block: Block, block_runs: BlockRuns) -> None:
    if "skip" in block.markers:
        pytest.skip(f"marked: {block.markers['skip']}")
    if "file" in block.markers:
        source = REPO / block.markers["file"]
        assert block.text == source.read_text(encoding="utf-8"), (
            f"{block.where}: the block is not the same as {block.markers['file']}; copy the file "
            "into the doc (the file is what the tests run)"
        )
        return
    failure = block_runs.result(block)
    if failure:
        pytest.fail(failure, pytrace=False)


def test_every_marker_is_well_formed_and_sits_on_a_fence() -> None:
    problems = []
    for doc in DOCS:
        lines = doc.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            if not (line.lstrip().startswith("<!--") and "docs-test" in line):
                continue  # (prose may mention the markers in backquotes)
            where = f"{doc.relative_to(REPO)}:{number}"
            match = MARKER.match(line)
            if match is None or match.group(1) not in MARKER_KINDS:
                problems.append(f"{where}: not a marker of kind {sorted(MARKER_KINDS)}: {line}")
                continue
            kind, value = match.groups()
            if kind in ("skip", "file", "probe") and not value:
                problems.append(f"{where}: `{kind}` needs a value (a reason, a path)")
            if kind == "file" and value and not (REPO / value).is_file():
                problems.append(f"{where}: no such file {value}")
            k = number
            while k < len(lines) and MARKER.match(lines[k]):
                k += 1
            if k >= len(lines) or not FENCE.match(lines[k]):
                problems.append(f"{where}: a marker must be directly above a fence")
    assert problems == []


def test_the_harness_finds_the_readme_blocks() -> None:
    # A parser that silently finds nothing would make every other test pass.
    readme = [b for b in BLOCKS if b.doc.name == "README.md"]
    assert len(readme) >= 3 and any(LANGS[b.lang] == "python" for b in readme)


@pytest.mark.parametrize(
    ("segment", "error"),
    [
        ("docker build -t app .", "Docker daemon"),
        ("sudo apt-get install nginx", "root"),
        ("python -m pytest", "test suite"),
    ],
)
def test_an_unmarked_block_the_harness_cannot_run_fails(segment: str, error: str) -> None:
    block = Block(REPO / "README.md", 1, "sh", segment + "\n")
    with pytest.raises(CannotRun, match=error):
        shell_script(block)


def test_a_server_command_is_started_on_a_free_port_and_probed() -> None:
    block = Block(REPO / "README.md", 1, "sh", "staticserve serve static --port 8000\n", {})
    script = shell_script(block)
    assert '"$DOCS_HELPER" serve' in script and "--port 8000" not in script


def _console_run(text: str, app: Path) -> list[str]:
    block = Block(REPO / "README.md", 1, "console", text)
    done = _run(["bash", "-c", shell_script(block)], app)
    assert done.returncode == 0, done.stdout
    return sample_mismatches(block, app)


def test_a_console_sample_that_is_what_the_command_prints_passes(tmp_path: Path) -> None:
    assert _console_run("$ echo one && echo two\none\ntwo\n$ true\n", tmp_path) == []


def test_a_console_sample_the_command_does_not_print_fails(tmp_path: Path) -> None:
    problems = _console_run("$ echo 12 files\n11 files\n", tmp_path)
    assert len(problems) == 1 and "12 files" in problems[0] and "11 files" in problems[0]


def test_a_console_sample_writes_the_app_directory_as_srv_app(tmp_path: Path) -> None:
    assert _console_run("$ pwd\n/srv/app\n", tmp_path) == []
