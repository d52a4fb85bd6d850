"""A rolling deploy behind a shared cache: zero broken assets (issue #13).

Two replicas, each a real server with its own root built by ``staticserve
build`` from the release-1 sources (A: gunicorn + ``StaticServeWSGI``, B:
uvicorn + ``StaticServe``), sit behind a real Varnish with a round-robin
director, configured as docs/cdn.md "Rolling deploys" says (``rolling.vcl``):
origin ``Cache-Control`` honoured, ``Accept-Encoding`` normalised, and a miss
under ``/static/`` asked of the other replicas before the client gets it.

A browser-like client loops through Varnish: it loads the page (HTML naming
hashed assets, ``max-age=1``), fetches every asset it names (and those its
stylesheet names), and keeps every older page it has seen open, fetching
that page's assets too. Meanwhile the deploy drains replica A, rebuilds its
root with release 2, restarts it and puts it back; then the same for B.

In the window between the two, a release-2 page (from A) names assets that B
does not have, and a request for one can reach B first: B answers 404. With
``miss_cache_control="no-store"`` (the default) Varnish does not store that
404, asks A, and the client gets the asset. With cacheable misses (the old
behaviour, ``miss_cache_control=None``) Varnish stores B's 404, its retry is
answered from the cache, the client gets a broken asset, and the stored 404
outlives the deploy. The second case is run too and must fail, so the test is
known to catch the problem.

Every body is hash-checked against the built files; the deploy advances on
conditions the client reports (pages of a release seen), polled with
deadlines; nothing is asserted on elapsed time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.hardening.test_cache_in_front import VARNISHD, require
from tests.support.servers import REPO, free_port, server_command, stop_process, wait_for_port

pytestmark = pytest.mark.timeout(300)  # hang guard for a whole variant

VARNISHADM = "/usr/bin/varnishadm"
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}(\.[^./]+)?$")
CODINGS = ("br", "gzip", "identity")  # rotated per request, so each is its own cached object
MAX_REQUESTS = 20_000  # bounds on the client loop, whatever happens
# Hang guards only, never a measure: a deploy step normally takes 1-3 s, so these
# are >= 10x that, and no assertion depends on how fast anything ran.
CLIENT_LIFETIME = 240.0  # the client loop ends by itself even if the test hangs
WAIT = 60.0  # give up on a deploy condition that never comes

# The configuration docs/cdn.md "Rolling deploys" shows (the same file, byte for byte).
VCL = Path(__file__).with_name("rolling.vcl")


# -- the two releases ---------------------------------------------------------------


def write_release(src: Path, release: int) -> None:
    """Release sources: every asset changes between releases except js/vendor.js."""
    files = {
        "release.txt": f"{release}\n",
        "css/site.css": (
            f"/* release {release} */\n"
            "body { background: url(../img/bg.svg) no-repeat; }\n"
            "@font-face { font-family: icons; src: url('../fonts/icons.woff2'); }\n"
            + "".join(f".r{release}-{i} {{ margin: {i % 7}px; }}\n" for i in range(120))
        ),
        "js/app.js": "".join(f"console.log('release {release}', {i});\n" for i in range(80)),
        "js/vendor.js": "".join(f"export const v{i} = {i};\n" for i in range(80)),
        "img/logo.svg": f'<svg xmlns="http://www.w3.org/2000/svg"><text>r{release}</text></svg>\n'
        * 8,
        "img/bg.svg": f'<svg xmlns="http://www.w3.org/2000/svg"><rect id="r{release}"/></svg>\n'
        * 8,
    }
    for rel, text in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    font = random.Random(release).randbytes(3000)  # incompressible: no .br/.gz sibling
    (src / "fonts").mkdir(exist_ok=True)
    (src / "fonts/icons.woff2").write_bytes(font)


def build(src: Path, out: Path) -> None:
    """``staticserve build SRC --out OUT --keep 3`` as a deploy script runs it.

    Over a root holding an earlier build, the earlier release's hashed files
    stay (docs/build.md "Releases"): the old page's assets on a new replica.
    """
    command = [sys.executable, "-m", "staticserve", "build", str(src), "--out", str(out),
               "--keep", "3"]  # fmt: skip
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def hashed_files(root: Path) -> dict[str, str]:
    """URL → sha256 of every hashed file a built root serves."""
    return {
        "/static/" + p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and HASHED_NAME.search(p.name)
    }


# -- replicas and the cache -----------------------------------------------------------


@dataclass
class Replica:
    name: str
    kind: str  # server kind for tests.support.servers.server_command
    target: str
    root: Path
    miss_cache_control: str | None
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "DEPLOY_ROOT": str(self.root),
            "DEPLOY_MISS_CACHE_CONTROL": json.dumps(self.miss_cache_control),
        }
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                server_command(self.kind, self.target, self.port),
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for_port(self.port, self.proc, self.log_path)

    def stop(self) -> None:
        """Graceful stop (SIGTERM: in-flight requests finish), as an orchestrator does."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Varnish:
    workdir: Path
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self, *command: str) -> str:
        proc = subprocess.run(
            [VARNISHADM, "-n", str(self.workdir / "varnish"), *command],
            capture_output=True,
            text=True,
            timeout=20,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    def set_health(self, backend: str, state: str) -> None:
        """Drain (``sick``) or restore (``auto``) a replica, as a load balancer does."""
        self.admin("backend.set_health", backend, state)


@contextlib.contextmanager
def running_varnish(workdir: Path, port_a: int, port_b: int) -> Iterator[Varnish]:
    require(VARNISHD, "varnish")
    require(VARNISHADM, "varnish")
    port = free_port()
    vcl = workdir / "rolling.vcl"
    text = VCL.read_text()
    for placeholder, backend_port in (('.port = "8001"', port_a), ('.port = "8002"', port_b)):
        assert placeholder in text
        text = text.replace(placeholder, f'.port = "{backend_port}"')
    vcl.write_text(text)
    log = workdir / "varnishd.log"
    command = [
        VARNISHD, "-F", "-n", str(workdir / "varnish"), "-a", f"127.0.0.1:{port}",
        "-f", str(vcl), "-s", "malloc,32m", "-j", "none",
        "-t", "120",  # Varnish's default TTL, stated: what an unmarked 404 gets
        "-p", "http_gzip_support=off",  # pass the normalised Accept-Encoding through
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, log, timeout=30)
        yield Varnish(workdir, port, proc)
    finally:
        stop_process(proc)
        shutil.rmtree(workdir / "varnish", ignore_errors=True)


# -- the client ---------------------------------------------------------------------

RELEASE = re.compile(rb'<meta name="release" content="(\d+)">')
LINK = re.compile(rb'href="(/static/[^"]+)"')
CSS_URL = re.compile(rb"url\(\s*['\"]?([^'\")]+)")


def css_references(css_url: str, body: bytes) -> list[str]:
    base = css_url.rsplit("/", 1)[0]
    refs = []
    for ref in CSS_URL.findall(body):
        parts = base.split("/")
        for segment in ref.decode().split("/"):
            if segment == "..":
                parts.pop()
            elif segment != ".":
                parts.append(segment)
        refs.append("/".join(parts))
    return refs


class Browser(threading.Thread):
    """Loads the page and its assets through the cache until stopped; keeps old pages open."""

    def __init__(self, base_url: str, expected: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.expected = expected
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests = 0
        self.failures: list[tuple[str, int, str]] = []  # (url, status, x-cache)
        self.wrong_bytes: list[str] = []
        self.rounds: Counter[str] = Counter()  # completed page loads per release
        self.pages: dict[str, list[str]] = {}  # release → asset URLs (pages kept open)
        self.error: BaseException | None = None
        self._coding = 0

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base_url, timeout=15) as client:
                deadline = time.monotonic() + CLIENT_LIFETIME  # hang guard
                while (
                    not self.stopping.is_set()
                    and self.requests < MAX_REQUESTS
                    and time.monotonic() < deadline
                ):
                    self._load_page(client)
                    self.stopping.wait(0.01)  # pacing on a shared machine, not synchronisation
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.error = exc

    def _get(self, client: httpx.Client, url: str) -> httpx.Response:
        coding = CODINGS[self._coding % len(CODINGS)]
        self._coding += 1
        response = client.get(url, headers={"accept-encoding": coding})
        with self.lock:
            self.requests += 1
        return response

    def _load_page(self, client: httpx.Client) -> None:
        page = self._get(client, "/")
        if page.status_code != 200:
            self._failed("/", page)
            return
        match = RELEASE.search(page.content)
        assert match is not None, page.content
        release = match.group(1).decode()
        links = [link.decode() for link in LINK.findall(page.content)]
        assets = self.pages.get(release)
        fresh = assets is None
        if fresh:
            assets = list(links)
        for url in links if fresh else assets:
            self._fetch_asset(client, url, assets if fresh else None)
        if fresh:
            self.pages[release] = assets
        # Pages left open in other tabs keep asking for their own assets.
        for other, other_assets in list(self.pages.items()):
            if other != release:
                for url in other_assets:
                    self._fetch_asset(client, url, None)
        with self.lock:
            self.rounds[release] += 1

    def _fetch_asset(self, client: httpx.Client, url: str, collect: list[str] | None) -> None:
        response = self._get(client, url)
        if response.status_code != 200:
            self._failed(url, response)
            return
        if hashlib.sha256(response.content).hexdigest() != self.expected.get(url):
            with self.lock:
                self.wrong_bytes.append(url)
            return
        if collect is not None and url.endswith(".css"):
            collect.extend(
                ref for ref in css_references(url, response.content) if ref not in collect
            )
            for ref in css_references(url, response.content):
                self._fetch_asset(client, ref, None)

    def _failed(self, url: str, response: httpx.Response) -> None:
        with self.lock:
            self.failures.append((url, response.status_code, response.headers.get("x-cache", "")))

    def completed(self, release: str) -> int:
        with self.lock:
            return self.rounds[release]


def wait_until(condition: Callable[[], bool], what: str, browser: Browser) -> None:
    deadline = time.monotonic() + WAIT  # hang guard (see WAIT)
    while not condition():
        if browser.error is not None:
            raise AssertionError(f"client failed while waiting for {what}") from browser.error
        if not browser.is_alive():
            raise AssertionError(f"client stopped before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT}s (rounds: {dict(browser.rounds)})")
        time.sleep(0.05)


# -- the deploy ---------------------------------------------------------------------


@dataclass
class Outcome:
    requests: int
    failures: list[tuple[str, int, str]]
    wrong_bytes: list[str]
    cached_404s: list[str]  # (URL, coding) answered 404 from the cache after the deploy
    final_404s: list[str]
    direct_misses: list[str]  # files a replica does not serve directly after the deploy
    old_replica_misses: int  # 404s the not-yet-deployed replica answered under /static/

    def summary(self, label: str) -> str:
        return (
            f"rolling deploy [{label}]: {self.requests} requests through Varnish, "
            f"{self.old_replica_misses} static misses answered by the old replica, "
            f"{len(self.failures)} asset failures, {len(self.wrong_bytes)} wrong bodies, "
            f"{len(self.final_404s)} 404s after the deploy ({len(self.cached_404s)} from the cache)"
        )


def rolling_deploy(base: Path, miss_cache_control: str | None) -> Outcome:
    sources = {r: base / f"src-r{r}" for r in (1, 2)}
    reference = {r: base / f"ref-r{r}" for r in (1, 2)}
    for r in (1, 2):
        write_release(sources[r], r)
        build(sources[r], reference[r])  # builds are deterministic: the expected bytes
    expected = {**hashed_files(reference[1]), **hashed_files(reference[2])}

    replicas = {
        "a": Replica("a", "gunicorn", "tests.deploy.apps:wsgi", base / "root-a",
                     miss_cache_control, base / "a.log"),
        "b": Replica("b", "uvicorn", "tests.deploy.apps:asgi", base / "root-b",
                     miss_cache_control, base / "b.log"),
    }  # fmt: skip
    for replica in replicas.values():
        build(sources[1], replica.root)
    try:
        for replica in replicas.values():
            replica.start()
        misses: dict[str, int] = {}
        with running_varnish(base, replicas["a"].port, replicas["b"].port) as varnish:
            browser = Browser(varnish.url, expected)
            browser.start()
            try:
                wait_until(lambda: browser.completed("1") >= 3, "release-1 page loads", browser)
                for name, replica in replicas.items():
                    varnish.set_health(name, "sick")  # drain
                    misses[name] = int(httpx.get(replica.url + "/__misses__", timeout=15).text)
                    replica.stop()
                    build(sources[2], replica.root)  # release 2 over the release-1 root
                    replica.start()
                    varnish.set_health(name, "auto")  # back in the pool
                    done = browser.completed("2")
                    wait_until(
                        lambda done=done: browser.completed("2") >= done + 3,
                        f"release-2 page loads after replica {name} came back",
                        browser,
                    )
            finally:
                browser.stopping.set()
                browser.join(30)
            assert browser.error is None, browser.error
            assert set(browser.pages) == {"1", "2"}, browser.pages

            # After the deploy: every asset of the current page, in every coding, again.
            final_404s, cached_404s = [], []
            with httpx.Client(base_url=varnish.url, timeout=15) as client:
                for url in browser.pages["2"]:
                    for coding in CODINGS:
                        r = client.get(url, headers={"accept-encoding": coding})
                        if r.status_code == 404:
                            final_404s.append(f"{url} ({coding})")
                            if r.headers.get("x-cache") == "HIT":
                                cached_404s.append(f"{url} ({coding})")
            # Each new replica still serves both releases' files itself.
            direct_misses = [
                f"{name}: {url}"
                for name, replica in replicas.items()
                for url in browser.pages["1"] + browser.pages["2"]
                if httpx.get(replica.url + url, timeout=15).status_code != 200
            ]
    finally:
        for replica in replicas.values():
            replica.stop()
    for replica in replicas.values():
        assert "Traceback" not in replica.log(), replica.log()
        manifest = json.loads((replica.root / "staticfiles.json").read_text())
        assert len(manifest["releases"]) == 2, manifest["releases"]  # both releases kept
    return Outcome(
        browser.requests,
        browser.failures,
        browser.wrong_bytes,
        cached_404s,
        final_404s,
        direct_misses,
        misses["b"],  # B stayed on release 1 while A served release 2
    )


def test_rolling_deploy_with_misses_never_cached_breaks_no_asset(tmp_path: Path) -> None:
    outcome = rolling_deploy(tmp_path, "no-store")
    print(outcome.summary('miss_cache_control="no-store" (default)'))
    # The failure mode happened: the old replica was asked for release-2 assets...
    assert outcome.old_replica_misses > 0
    # ... and no client ever saw it.
    assert outcome.failures == []
    assert outcome.wrong_bytes == []
    assert outcome.final_404s == [] and outcome.cached_404s == []
    assert outcome.direct_misses == []


def test_rolling_deploy_with_cacheable_misses_breaks_assets(tmp_path: Path) -> None:
    """The old behaviour (no Cache-Control on a miss): the same deploy must fail, visibly."""
    outcome = rolling_deploy(tmp_path, None)
    print(outcome.summary("miss_cache_control=None (cacheable misses)"))
    assert outcome.old_replica_misses > 0
    assert outcome.wrong_bytes == []  # never wrong bytes, only missing ones
    assert outcome.failures, "cacheable misses should have broken an asset during the deploy"
    assert all(status == 404 for _, status, _ in outcome.failures), outcome.failures
    assert outcome.cached_404s, "a stored 404 should outlive the deploy"
    assert outcome.direct_misses == []  # the files are there: only the cache is wrong
