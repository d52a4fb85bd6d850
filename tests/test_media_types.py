"""The Content-Type table."""

from __future__ import annotations

import pytest

from staticserve.media_types import is_compressible, media_type_for


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("app.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("mod.mjs", "text/javascript; charset=utf-8"),
        ("app.js.map", "application/json; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("site.webmanifest", "application/manifest+json; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("font.woff2", "font/woff2"),
        ("font.woff", "font/woff"),
        ("mod.wasm", "application/wasm"),
        ("img.avif", "image/avif"),
        ("img.webp", "image/webp"),
        ("img.jxl", "image/jxl"),
        ("img.PNG", "image/png"),
        ("favicon.ico", "image/vnd.microsoft.icon"),
        ("index.html", "text/html; charset=utf-8"),
        ("README", "application/octet-stream"),
        (".hidden", "application/octet-stream"),
    ],
)
def test_media_type_for_common_web_files(name: str, expected: str) -> None:
    assert media_type_for(name) == expected


def test_overrides_by_extension_win() -> None:
    assert media_type_for("x.js", {".js": "application/javascript"}).startswith(
        "application/javascript"
    )


def test_overrides_by_whole_file_name() -> None:
    name = "apple-app-site-association"
    assert media_type_for(name, {name: "application/json"}) == "application/json; charset=utf-8"


def test_charset_can_be_changed_or_dropped() -> None:
    assert media_type_for("a.css", charset="latin-1") == "text/css; charset=latin-1"
    assert media_type_for("a.css", charset=None) == "text/css"


def test_binary_types_get_no_charset() -> None:
    assert "charset" not in media_type_for("a.png")


@pytest.mark.parametrize("name", ["a.png", "a.woff2", "a.jpg", "a.gz", "a.br", "a.mp4"])
def test_already_compressed_formats_are_not_compressible(name: str) -> None:
    assert not is_compressible(name)


@pytest.mark.parametrize("name", ["a.css", "a.js", "a.svg", "a.json", "a.html", "a.map"])
def test_text_formats_are_compressible(name: str) -> None:
    assert is_compressible(name)
