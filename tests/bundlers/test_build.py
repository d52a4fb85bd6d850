"""`staticserve build` on bundler output: nothing hashed twice, pages still load."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from staticserve.pipeline.cli import main as build_main

from .conftest import VITE_DIST, WEBPACK_DIST

_REFS = {
    ".html": re.compile(r"""(?:src|href)=["']?([^"'\s>]+)"""),  # minified: unquoted
    ".css": re.compile(r"""url\(["']?([^)"']+)["']?\)"""),
    ".js": re.compile(r"""import\(["'`](\.{0,2}/[^"'`$]+)["'`]\)"""),
}


def _build(dist: Path, out: Path) -> dict:
    assert build_main(["build", str(dist), "--out", str(out), "--static-url", "/", "-q"]) == 0
    return json.loads((out / "staticfiles.json").read_text())


def _names(root: Path) -> set[str]:
    return {
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith((".br", ".gz", ".zst"))
    }


def _references(text: str, suffix: str) -> list[str]:
    refs = [m.group(1) for m in _REFS[suffix].finditer(text)]
    return [r for r in refs if not r.startswith(("http:", "https:", "data:", "#"))]


@pytest.mark.parametrize("dist", [VITE_DIST, WEBPACK_DIST], ids=["vite", "webpack"])
def test_bundler_files_keep_their_names_and_bytes(dist: Path, tmp_path: Path) -> None:
    manifest = _build(dist, tmp_path / "site")
    site = tmp_path / "site"
    for name in _names(dist):
        if name.startswith(".vite/"):
            continue  # dot-directories are not collected
        assert (site / name).read_bytes() == (dist / name).read_bytes(), name
    # Not hashed a second time: no "index-BvmkIFtm.<12 hex>.js" beside it.
    bundled = {n for n in _names(dist) if n.endswith((".js", ".css", ".png", ".svg"))}
    bundled -= {"favicon.svg"}  # Vite's public/ file: not hashed by Vite, so build hashes it
    for name in bundled:
        stem = name.rpartition(".")[0]
        twice = re.compile(re.escape(stem) + r"\.[0-9a-f]{12}\..+")
        assert not [n for n in _names(site) if twice.fullmatch(n)]
        assert manifest["paths"][name] == name


@pytest.mark.parametrize("dist", [VITE_DIST, WEBPACK_DIST], ids=["vite", "webpack"])
def test_html_is_never_renamed_nor_listed_as_hashed(dist: Path, tmp_path: Path) -> None:
    manifest = _build(dist, tmp_path / "site")
    assert [n for n in _names(tmp_path / "site") if n.endswith(".html")] == ["index.html"]
    assert "index.html" not in manifest["paths"]
    assert "index.html" in manifest["files"]


@pytest.mark.parametrize("dist", [VITE_DIST, WEBPACK_DIST], ids=["vite", "webpack"])
def test_every_reference_of_every_page_resolves(dist: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    _build(dist, site)
    checked = 0
    for page in [p for p in site.rglob("*") if p.suffix in (".html", ".css", ".js")]:
        for ref in _references(page.read_text(), page.suffix):
            target = (site / ref.lstrip("/")) if ref.startswith("/") else page.parent / ref
            assert target.resolve().is_file(), f"{page.name} -> {ref}"
            checked += 1
    assert checked >= 3


def test_assets_are_compressed_and_described(tmp_path: Path) -> None:
    manifest = _build(VITE_DIST, tmp_path / "site")
    site = tmp_path / "site"
    assert (site / "assets" / "index-BvmkIFtm.js.br").is_file()
    assert (site / "index.html.gz").is_file()
    for name in ("assets/index-BvmkIFtm.js", "assets/logo-DYM68Rp9.png", "index.html"):
        assert manifest["files"][name]["integrity"].startswith("sha384-")


def test_own_files_referencing_bundler_output_are_hashed_but_point_at_it(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "assets").mkdir(parents=True)
    (src / "assets" / "logo-DYM68Rp9.png").write_bytes(b"png")
    (src / "site.css").write_text("a { background: url(assets/logo-DYM68Rp9.png) }")
    manifest = _build(src, tmp_path / "site")
    hashed_css = manifest["paths"]["site.css"]
    assert hashed_css != "site.css"
    assert "url(assets/logo-DYM68Rp9.png)" in (tmp_path / "site" / hashed_css).read_text()
