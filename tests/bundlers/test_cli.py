"""`staticserve serve ... --spa` and `build` on bundler output, as users run them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.integration.test_cli import (
    run_cli,
    serving,
    staticserve_command,
    wait_until_listening,
)
from tests.support.servers import free_port

from .conftest import VITE_DIST

pytestmark = pytest.mark.timeout(120)

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
IMMUTABLE = "public, max-age=31536000, immutable"


def _url(line: str, proc: subprocess.Popen[str]) -> str:
    """The served URL from the start-up line, once the server listens."""
    url = line.rsplit(" at ", 1)[1].strip().rstrip("/")
    wait_until_listening(int(url.rsplit(":", 1)[1]), proc)
    return url


def _check_spa(base: str, root: Path) -> None:
    """The issue's Done-when checks, on a served Vite build."""
    for asset in sorted((root / "assets").iterdir()):
        if asset.suffix in (".br", ".gz", ".zst"):
            continue
        r = httpx.get(f"{base}/assets/{asset.name}")
        assert r.headers["cache-control"] == IMMUTABLE, asset.name
    index = httpx.get(base + "/", headers={"accept": BROWSER})
    assert index.headers["cache-control"] == "no-cache"
    route = httpx.get(base + "/some/route", headers={"accept": BROWSER})
    assert route.status_code == 200 and route.content == index.content
    assert route.headers["cache-control"] == "no-cache"
    assert (
        httpx.get(base + "/assets/nope-ABCDEFGH.js", headers={"accept": BROWSER}).status_code == 404
    )


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_spa(server: str) -> None:
    port = str(free_port())
    with serving(str(VITE_DIST), "--spa", "--port", port, "--server", server) as (line, proc):
        _check_spa(_url(line, proc), VITE_DIST)


def test_build_then_serve_spa(tmp_path: Path) -> None:
    site = tmp_path / "site"
    done = run_cli("build", str(VITE_DIST), "--out", str(site), "--static-url", "/", "-q")
    assert done.returncode == 0, done.stderr
    with serving(str(site), "--spa", "--port", str(free_port())) as (line, proc):
        _check_spa(_url(line, proc), site)


def test_compress_then_serve_spa_sends_the_encodings(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    shutil.copytree(VITE_DIST, dist)
    done = run_cli("compress", str(dist))
    assert done.returncode == 0, done.stderr
    script = next((dist / "assets").glob("*.js"))
    with serving(str(dist), "--spa", "--port", str(free_port())) as (line, proc):
        base = _url(line, proc)
        _check_spa(base, dist)
        for encoding in ("br", "gzip"):
            r = httpx.get(f"{base}/assets/{script.name}", headers={"accept-encoding": encoding})
            assert r.headers["content-encoding"] == encoding
            assert r.content == script.read_bytes()  # httpx decodes it
            assert r.headers["vary"] == "Accept-Encoding"


def test_check_says_which_bundler_manifest_it_read() -> None:
    done = run_cli("check", str(VITE_DIST))
    assets = len(list((VITE_DIST / "assets").iterdir()))  # Vite hashes every one
    assert done.returncode == 0, done.stderr
    assert f"files ({assets} hashed per .vite/manifest.json);" in done.stdout


def test_max_age_option_sets_non_hashed_files(tmp_path: Path) -> None:
    with serving(str(VITE_DIST), "--max-age", "300", "--port", str(free_port())) as (line, proc):
        base = _url(line, proc)
        assert httpx.get(base + "/favicon.svg").headers["cache-control"] == "public, max-age=300"
        assert httpx.get(base + "/").headers["cache-control"] == "no-cache"
        assert httpx.get(base + "/assets/index-BvmkIFtm.js").headers["cache-control"] == IMMUTABLE


def test_immutable_option_replaces_the_name_test() -> None:
    port = str(free_port())
    with serving(str(VITE_DIST), "--immutable", r"^/fav", "--port", port) as (line, proc):
        base = _url(line, proc)
        assert httpx.get(base + "/favicon.svg").headers["cache-control"] == IMMUTABLE
        # The Vite manifest still names the assets hashed.
        assert httpx.get(base + "/assets/index-BvmkIFtm.js").headers["cache-control"] == IMMUTABLE


def test_index_file_option_names_the_spa_page(tmp_path: Path) -> None:
    (tmp_path / "app.html").write_text("<p>app</p>")
    port = str(free_port())
    with serving(str(tmp_path), "--index-file", "app.html", "--spa", "--port", port) as (
        line,
        proc,
    ):
        base = _url(line, proc)
        r = httpx.get(base + "/deep/link", headers={"accept": BROWSER})
        assert r.text == "<p>app</p>" and r.headers["cache-control"] == "no-cache"
        assert httpx.get(base + "/").text == "<p>app</p>"


def test_spa_without_an_index_file_is_a_one_line_error(tmp_path: Path) -> None:
    done = run_cli("serve", str(tmp_path), "--spa", "--port", str(free_port()))
    assert done.returncode == 2
    assert "fallback file 'index.html' is not in root" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-age", "-1"], "not a number of seconds"),
        (["--immutable", "("], "not a valid regular"),
    ],
)
def test_bad_serve_options_are_one_line_errors(
    tmp_path: Path, args: list[str], message: str
) -> None:
    done = run_cli("serve", str(tmp_path), *args, "--port", str(free_port()))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_serve_help_documents_the_options() -> None:
    done = subprocess.run(
        [*staticserve_command(), "serve", "--help"], capture_output=True, text=True, check=True
    )
    for option in ("--max-age", "--immutable", "--index-file", "--spa"):
        assert option in done.stdout
