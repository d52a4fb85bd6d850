"""Bundler manifests (Vite, webpack) read from real build output."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from staticserve.manifests import bundler_hashed_names, renamed_with_hash

from .conftest import VITE_DIST, WEBPACK_DIST


def _assets(dist: Path) -> set[str]:
    return {p.relative_to(dist).as_posix() for p in (dist / "assets").iterdir()}


def test_vite_manifest_lists_every_hashed_asset() -> None:
    assert bundler_hashed_names(VITE_DIST) == _assets(VITE_DIST)


def test_vite_manifest_catches_a_hash_the_name_test_misses() -> None:
    # "chart-BdheiUng.js" reads as two words to the name test; the manifest
    # shows Vite renamed src/chart.js, so it is hashed.
    assert "assets/chart-BdheiUng.js" in bundler_hashed_names(VITE_DIST)


def test_webpack_manifests_list_hashed_outputs_but_not_index_html() -> None:
    hashed = bundler_hashed_names(WEBPACK_DIST)
    assert hashed == {
        "main.111bf90bdf23d77869c9.js",
        "runtime.c3ac7d4e7c43dbc4a227.js",
        "main.3acb9e15.css",
        "chart.37593ba1.js",
        "4fb4b181516f707b1659.png",
    }


@pytest.mark.parametrize("manifest", ["manifest.json", "assets-manifest.json"])
def test_each_webpack_manifest_plugin_alone_is_enough(tmp_path: Path, manifest: str) -> None:
    for f in WEBPACK_DIST.iterdir():
        if f.name not in ("manifest.json", "assets-manifest.json") or f.name == manifest:
            (tmp_path / f.name).write_bytes(f.read_bytes())
    assert "chart.37593ba1.js" in bundler_hashed_names(tmp_path)


def test_webpack_public_path_with_a_cdn_host_is_stripped(tmp_path: Path) -> None:
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.GhgOuqno.js").write_text("x")
    manifest = {"app.js": "https://cdn.example.com/static/js/app.GhgOuqno.js"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert bundler_hashed_names(tmp_path) == {"js/app.GhgOuqno.js"}


def test_create_react_app_asset_manifest_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "main.GhgOuqno.js").write_text("x")
    manifest = {"files": {"main.js": "/static/main.GhgOuqno.js"}, "entrypoints": ["x"]}
    (tmp_path / "asset-manifest.json").write_text(json.dumps(manifest))
    assert bundler_hashed_names(tmp_path) == {"static/main.GhgOuqno.js"}


def test_files_the_bundler_did_not_rename_are_not_hashed(tmp_path: Path) -> None:
    # CopyWebpackPlugin / public/ files are listed under their own names.
    for name in ("photo-20240101.jpg", "app-settings.js", "main-bundle.js"):
        (tmp_path / name).write_text("x")
    manifest = {
        "photo-20240101.jpg": "/photo-20240101.jpg",
        "app-settings.js": "/app-settings.js",
        "main.js": "/main-bundle.js",  # a fixed suffix in the output pattern
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert bundler_hashed_names(tmp_path) == set()


@pytest.mark.parametrize(
    ("output", "source", "hashed"),
    [
        ("assets/logo-GhgOuqno.png", "src/logo.png", True),
        ("assets/main-Compiled.js", "src/main.js", False),
        ("assets/main-LEGACY.js", "src/main.js", False),
        ("assets/main.js", "src/main.js", False),
        ("assets/index-GhgOuqno.css", None, False),  # no source: the name test alone
    ],
)
def test_renamed_with_hash(output: str, source: str | None, hashed: bool) -> None:
    assert renamed_with_hash(output, source) is hashed


def test_web_app_manifest_named_manifest_json_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "icon-192.png").write_text("x")
    pwa = {"name": "App", "short_name": "App", "icons": [{"src": "icon-192.png"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(pwa))
    assert bundler_hashed_names(tmp_path) == set()


def test_manifest_entries_outside_the_root_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".vite").mkdir()
    manifest = {"src/a.js": {"file": "../secret-GhgOuqno.js", "src": "src/a.js"}}
    (tmp_path / ".vite" / "manifest.json").write_text(json.dumps(manifest))
    assert bundler_hashed_names(tmp_path) == set()


def test_malformed_bundler_manifest_is_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / ".vite").mkdir()
    (tmp_path / ".vite" / "manifest.json").write_text("{not json")
    with caplog.at_level(logging.WARNING, logger="staticserve"):
        assert bundler_hashed_names(tmp_path) == set()
    assert ".vite/manifest.json" in caplog.text and "ignoring" in caplog.text
