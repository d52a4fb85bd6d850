"""The Content-Type table."""

from __future__ import annotations

from pathlib import Path

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


# -- compared with WhiteNoise's table and nginx's mime.types ------------------------------------

#: Every name where staticserve deliberately labels a file differently from WhiteNoise
#: or nginx, with the reason (docs/migrating-from-whitenoise.md, "Media types").
DELIBERATE_DIFFERENCES: dict[str, str] = {
    ".js": "text/javascript: RFC 9239 (nginx still says application/javascript)",
    ".xml": "application/xml: RFC 7303 prefers it to text/xml",
    ".bmp": "image/bmp: the IANA-registered type (not image/x-ms-bmp)",
    ".ico": "image/vnd.microsoft.icon: the IANA-registered type (browsers accept both)",
    ".m4a": "audio/mp4: RFC 4337 (not audio/x-m4a)",
    ".m4v": "video/mp4: RFC 4337 (not video/x-m4v)",
    ".rar": "application/vnd.rar: the IANA-registered type",
    ".woff": "font/woff: RFC 8081 (not application/font-woff)",
    ".ts": "text/javascript: in a static directory .ts is TypeScript, not an MPEG stream",
    "apple-app-site-association": "application/json: what Apple documents",
}


def _nginx_types() -> dict[str, str]:
    text = Path("/etc/nginx/mime.types").read_text()
    types: dict[str, str] = {}
    for statement in text[text.index("{") + 1 : text.rindex("}")].split(";"):
        words = statement.split()
        for ext in words[1:]:
            types.setdefault("." + ext, words[0])
    return types


def _type_without_charset(name: str) -> str:
    return media_type_for(name if not name.startswith(".") else "x" + name, None, None)


def _differences(table: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {
        name: (_type_without_charset(name), theirs)
        for name, theirs in table.items()
        if _type_without_charset(name) != theirs
    }


def test_only_the_deliberate_differences_from_whitenoise() -> None:
    from whitenoise.media_types import default_types

    # (WhiteNoise already says text/javascript for .js.)
    assert set(_differences(default_types())) == set(DELIBERATE_DIFFERENCES) - {".js"}


@pytest.mark.skipif(not Path("/etc/nginx/mime.types").exists(), reason="nginx not installed")
def test_only_the_deliberate_differences_from_nginx() -> None:
    differences = _differences(_nginx_types())
    # (nginx already says font/woff and has no file-name types.)
    assert set(differences) == set(DELIBERATE_DIFFERENCES) - {".woff", "apple-app-site-association"}


def test_apple_app_site_association_is_json() -> None:
    assert media_type_for(".well-known/apple-app-site-association", charset=None) == (
        "application/json"
    )
