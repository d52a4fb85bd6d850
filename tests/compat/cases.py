"""The differential table: one site, several WhiteNoise configurations, many requests.

Both servers (real WhiteNoise, and ``staticserve.compat.whitenoise``) import
this module, so every hook and configuration is literally the same object
on both sides. :data:`CONFIGS` are mounted by name (``/<config>/...``) in one
WSGI app per side (``tests/compat/wsgi_apps.py``); :data:`CASES` are the
requests; :data:`ALLOWED` lists every difference the comparison accepts, each
naming the section of docs/migrating-from-whitenoise.md that explains it.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli

GUIDE = "docs/migrating-from-whitenoise.md"

# -- the site ------------------------------------------------------------------------------

CSS = b"".join(b".rule-%03d { color: #%06x; margin: 0 auto; }\n" % (i, i * 997) for i in range(120))
JS = b"".join(b"export const value%03d = %d;\n" % (i, i * 31) for i in range(80))
BIG = bytes((i * 7 + i // 251) % 256 for i in range(300_000))


def build_layer(root: Path) -> None:
    """A second root added with add_files: one URL shared with the site, one its own."""
    (root / "css").mkdir(parents=True, exist_ok=True)
    (root / "css/styles.css").write_bytes(b"/* from the layer */\n")
    (root / "only-in-layer.txt").write_bytes(b"layer\n")
    for path in (root / "css/styles.css", root / "only-in-layer.txt"):
        os.utime(path, (1_700_000_000, 1_700_000_000))


def build_site(root: Path) -> None:
    """Write the site both sides serve (deterministic contents and mtimes)."""
    files: dict[str, bytes] = {
        "css/styles.css": CSS,
        "js/app.js": JS,
        "js/app.0123456789ab.js": JS + b"// hashed\n",
        "img/pixel.gif": bytes.fromhex(
            "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
        ),
        "index.html": b"<!doctype html><title>home</title>\n",
        "with-index/index.html": b"<!doctype html><title>with index</title>\n",
        "custom.foobar": b"foo bar\n",
        "robots.txt": b"User-agent: *\nDisallow:\n",
        "data.json": b'{"a": 1}\n',
        "site.webmanifest": b'{"name": "x"}\n',
        "nonascii\u2713.txt": b"non-ascii name\n",
        "epoch/zero.txt": b"mtime zero\n",
        "epoch/one.txt": b"mtime one\n",
        "big.bin": BIG,
        ".well-known/security.txt": b"Contact: mailto:security@example.com\n",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "css/styles.css.gz").write_bytes(gzip.compress(CSS, mtime=0))
    (root / "css/styles.css.br").write_bytes(brotli.compress(CSS))
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (1_700_000_000, 1_700_000_000))
    os.utime(root / "epoch/zero.txt", (0, 0))
    os.utime(root / "epoch/one.txt", (1, 1))


# -- hooks (the same functions on both sides) ----------------------------------------------------


def add_headers(headers: Any, path: str, url: str) -> None:
    """A WhiteNoise-style add_headers_function: item assignment and deletion."""
    if url.endswith(".css"):
        headers["X-Is-Css-File"] = "True"
    if url.endswith("robots.txt"):
        headers["Cache-Control"] = "no-store"
    if url.endswith(".json"):
        del headers["Access-Control-Allow-Origin"]


def immutable_app_js(path: str, url: str) -> bool:
    return url == "/js/app.js" and path.endswith(os.path.join("js", "app.js"))


#: config name -> (root directory below the shared base, WhiteNoise keyword arguments)
CONFIGS: dict[str, tuple[str, dict[str, Any]]] = {
    "plain": ("site", {}),
    "static": ("site", {"prefix": "/static/"}),
    "static-bare": ("site", {"prefix": "static"}),
    "index": ("site", {"index_file": True}),
    "maxage": ("site", {"max_age": 1000}),
    "maxage0": ("site", {"max_age": 0}),
    "maxagenone": ("site", {"max_age": None}),
    "immregex": ("site", {"immutable_file_test": r"\.[0-9a-f]{12}\.js$"}),
    "immurl": ("site", {"prefix": "/static/", "immutable_file_test": r"^/static/js/"}),
    "immcall": ("site", {"immutable_file_test": immutable_app_js}),
    "headers": ("site", {"add_headers_function": add_headers}),
    "noorigins": ("site", {"allow_all_origins": False}),
    "charset": ("site", {"charset": "iso-8859-1"}),
    "mime": (
        "site",
        {"mimetypes": {".foobar": "application/x-foo-bar", "robots.txt": "text/x-robots"}},
    ),
    "auto": ("auto", {"autorefresh": True, "index_file": True}),
    "later": ("later", {"autorefresh": True}),
    # add_files(layer) after the site root: the later root wins for a URL both have
    "layered": ("site", {"extra_root": "layer"}),
    "layered-auto": ("site", {"extra_root": "layer", "autorefresh": True}),
}


# -- the requests ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request. ``{etag}`` / ``{last_modified}`` in a header value are replaced by
    that side's own validator, read first with a GET of the same path and encoding."""

    config: str
    path: str
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def id(self) -> str:
        extra = ",".join(f"{k}={v}" for k, v in self.headers)
        return f"{self.method} {self.url}" + (f" [{extra}]" if extra else "")

    @property
    def url(self) -> str:
        return f"/{self.config}{self.path}" if self.config else self.path


def _c(config: str, path: str, method: str = "GET", **headers: str) -> Case:
    return Case(config, path, method, tuple((k.replace("_", "-"), v) for k, v in headers.items()))


GZ = {"accept_encoding": "gzip"}
BR = {"accept_encoding": "gzip, deflate, br"}

CASES: list[Case] = [
    # prefixes and plain files
    _c("plain", "/css/styles.css"),
    _c("plain", "/js/app.js"),
    _c("plain", "/img/pixel.gif"),
    _c("plain", "/nonascii%E2%9C%93.txt"),
    _c("plain", "/does-not-exist.css"),
    _c("plain", "/with-index/"),
    _c("plain", "/css/styles.css.gz"),
    _c("plain", "/css/../js/app.js"),
    _c("static", "/static/css/styles.css"),
    _c("static", "/css/styles.css"),
    _c("static", "/static"),
    _c("static-bare", "/static/js/app.js"),
    # compressed variants and Vary
    _c("plain", "/css/styles.css", **GZ),
    _c("plain", "/css/styles.css", **BR),
    _c("plain", "/css/styles.css", accept_encoding="br"),
    _c("plain", "/css/styles.css", accept_encoding="identity"),
    _c("plain", "/css/styles.css", accept_encoding="*"),
    _c("plain", "/js/app.js", **BR),
    # HEAD and methods
    _c("plain", "/css/styles.css", "HEAD"),
    _c("plain", "/css/styles.css", "HEAD", **BR),
    _c("plain", "/css/styles.css", "POST"),
    _c("plain", "/js/app.js", "DELETE"),
    _c("plain", "/does-not-exist.css", "POST"),
    # 304s
    _c("plain", "/js/app.js", if_none_match="{etag}"),
    _c("plain", "/css/styles.css", if_none_match="{etag}", **GZ),
    _c("plain", "/js/app.js", if_none_match='"not-the-etag"'),
    _c("plain", "/js/app.js", if_none_match="*"),
    _c("plain", "/js/app.js", if_none_match='"other", {etag}'),
    _c("plain", "/js/app.js", if_none_match="W/{etag}"),
    _c("plain", "/js/app.js", if_modified_since="{last_modified}"),
    _c("plain", "/js/app.js", if_modified_since="Tue, 14 Nov 2023 22:13:19 GMT"),
    _c("plain", "/js/app.js", if_modified_since="Wed, 15 Nov 2000 00:00:00 GMT"),
    # ranges
    _c("plain", "/big.bin", range="bytes=0-99"),
    _c("plain", "/big.bin", range="bytes=-100"),
    _c("plain", "/big.bin", range="bytes=299900-"),
    _c("plain", "/big.bin", range="bytes=299990-400000"),
    _c("plain", "/big.bin", range="bytes=999999-"),
    _c("plain", "/big.bin", range="bytes=0-9,20-29"),
    _c("plain", "/big.bin", range="bytes=5-5"),
    _c("plain", "/big.bin", range="lines=1-2"),
    _c("plain", "/big.bin", "HEAD", range="bytes=0-99"),
    _c("plain", "/css/styles.css", range="bytes=0-99"),
    _c("plain", "/css/styles.css", range="bytes=0-99", **GZ),
    # mtime 0 / 1 files
    _c("plain", "/epoch/zero.txt"),
    _c("plain", "/epoch/one.txt"),
    _c("plain", "/epoch/zero.txt", if_modified_since="Thu, 01 Jan 1970 00:00:00 GMT"),
    _c("plain", "/epoch/one.txt", if_modified_since="Thu, 01 Jan 1970 00:00:01 GMT"),
    # index files and redirects
    _c("index", "/with-index/"),
    _c("index", "/with-index"),
    _c("index", "/with-index?x=1"),
    _c("index", "/with-index/index.html"),
    _c("index", "/"),
    _c("index", "/index.html"),
    _c("index", "/css/"),
    # max_age
    _c("maxage", "/js/app.js"),
    _c("maxage0", "/js/app.js"),
    _c("maxagenone", "/js/app.js"),
    _c("maxage", "/js/app.js", if_none_match="{etag}"),
    # immutable_file_test: regex and callable
    _c("immregex", "/js/app.0123456789ab.js"),
    _c("immregex", "/js/app.js"),
    _c("immurl", "/static/js/app.js"),
    _c("immurl", "/static/css/styles.css"),
    _c("immcall", "/js/app.js"),
    _c("immcall", "/js/app.0123456789ab.js"),
    _c("plain", "/js/app.0123456789ab.js"),
    # add_headers_function
    _c("headers", "/css/styles.css"),
    _c("headers", "/css/styles.css", **BR),
    _c("headers", "/robots.txt"),
    _c("headers", "/data.json"),
    # allow_all_origins
    _c("noorigins", "/css/styles.css"),
    # several roots: the later add_files wins
    _c("layered", "/css/styles.css"),
    _c("layered", "/only-in-layer.txt"),
    _c("layered", "/js/app.js"),
    _c("layered-auto", "/css/styles.css"),
    _c("layered-auto", "/only-in-layer.txt"),
    # dotfiles
    _c("plain", "/.well-known/security.txt"),
    # charset and mimetypes
    _c("charset", "/css/styles.css"),
    _c("charset", "/js/app.js"),
    _c("plain", "/data.json"),
    _c("plain", "/site.webmanifest"),
    _c("plain", "/custom.foobar"),
    _c("mime", "/custom.foobar"),
    _c("mime", "/robots.txt"),
]


# -- the differences allowed ------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    """A difference the comparison accepts: an aspect (a header name, ``status`` or
    ``body``) where ``when(case)`` holds and, if given, ``values(theirs, ours)`` holds for
    the two values; ``section`` is the guide's heading that explains it."""

    id: str
    aspects: frozenset[str]
    when: Callable[[Case], bool]
    section: str
    reason: str
    values: Callable[[Any, Any], bool] | None = None
    statuses: frozenset[int] | None = None  # only for answers (ours) with these statuses
    used: list[str] = field(default_factory=list, compare=False, hash=False)


def _path(*paths: str) -> Callable[[Case], bool]:
    return lambda case: case.path.endswith(paths)


def _header(name: str, test: Callable[[str], bool] = lambda v: True) -> Callable[[Case], bool]:
    return lambda case: any(k == name and test(v) for k, v in case.headers)


ALLOWED: list[Allowed] = [
    Allowed(
        "etag-from-content",
        frozenset({"etag"}),
        lambda case: True,
        "ETags and Last-Modified",
        "ETags are the content's SHA-384 (or the manifest's), not mtime-size, one per "
        "encoding, and sent for mtime-0 files too",
    ),
    Allowed(
        "no-last-modified-before-1980",
        frozenset({"last-modified", "status"}),
        _path("/epoch/one.txt"),
        "ETags and Last-Modified",
        "mtimes before 1980 are normalised ones: no Last-Modified, no 304 by date",
    ),
    Allowed(
        "last-modified-on-304",
        frozenset({"last-modified"}),
        lambda case: any("{" in v or k.startswith("if-") for k, v in case.headers),
        "Conditional requests",
        "a 304 repeats Last-Modified (RFC 9110 15.4.5)",
    ),
    Allowed(
        "accept-encoding-star",
        frozenset({"content-encoding", "etag", "body"}),
        _header("accept-encoding", lambda v: v == "*"),
        "Compressed variants",
        "Accept-Encoding: * accepts any coding (RFC 9110 12.5.3): the smallest variant is sent",
    ),
    Allowed(
        "if-none-match-parsed",
        frozenset({"status"}),
        _header("if-none-match", lambda v: v == "*" or "," in v or v.startswith("W/")),
        "Conditional requests",
        "If-None-Match is a list compared weakly, with * (RFC 9110 13.1.2): these are 304s",
    ),
    Allowed(
        "accept-ranges",
        frozenset({"accept-ranges"}),
        lambda case: True,
        "Ranges",
        "Accept-Ranges: bytes advertises range support (RFC 9110 14.3)",
    ),
    Allowed(
        "range-from-identity",
        frozenset({"content-encoding", "content-range", "vary", "etag", "body", "content-length"}),
        lambda case: _header("range")(case) and _header("accept-encoding")(case),
        "Ranges",
        "ranges are cut from the uncompressed file",
    ),
    Allowed(
        "multiple-ranges",
        frozenset({"status"}),
        _header("range", lambda v: "," in v),
        "Ranges",
        "several ranges get multipart/byteranges (WhiteNoise ignores them: 200)",
    ),
    Allowed(
        "single-byte-range",
        frozenset({"status"}),
        _header("range", lambda v: v == "bytes=5-5"),
        "Ranges",
        "bytes=5-5 is one byte (WhiteNoise answers 416)",
    ),
    Allowed(
        "head-ignores-range",
        frozenset({"status"}),
        lambda case: case.method == "HEAD" and _header("range")(case),
        "Ranges",
        "Range is defined for GET only (RFC 9110 14.2): HEAD answers as for the whole file",
    ),
    Allowed(
        "no-cache-for-max-age-0",
        frozenset({"cache-control"}),
        lambda case: case.config == "maxage0",
        "Caching",
        "max_age=0 sends no-cache (max-age=0 lets a cache serve "
        "stale copies when the origin is unreachable)",
    ),
    Allowed(
        "max-age-none",
        frozenset({"cache-control"}),
        lambda case: case.config == "maxagenone",
        "Caching",
        "max_age=None sends the default 60 s rather than no Cache-Control (which "
        "lets CDNs cache heuristically for days)",
    ),
    Allowed(
        "immutable-one-year",
        frozenset({"cache-control"}),
        lambda case: True,
        "Caching",
        "immutable files get max-age=31536000 (one year), not ten",
        values=lambda a, b: "immutable" in (a or "") and "immutable" in (b or ""),
    ),
    Allowed(
        "redirect-cache-control",
        frozenset({"cache-control"}),
        lambda case: True,
        "Index files and redirects",
        "redirects carry no Cache-Control, so a directory may later become a file",
        statuses=frozenset({302}),
    ),
    Allowed(
        "index-pages-no-cache",
        frozenset({"cache-control"}),
        lambda case: case.path.endswith("/"),
        "Index files and redirects",
        "a page served at a directory URL is revalidated on every use (no-cache), so a "
        "deploy shows at once",
        values=lambda a, b: b == "no-cache",
    ),
    Allowed(
        "misses-not-cached",
        frozenset({"cache-control"}),
        lambda case: True,
        "Methods and empty answers",
        "405/412/416 answers under a static prefix say Cache-Control: no-store",
        values=lambda a, b: a is None and b == "no-store",
        statuses=frozenset({404, 405, 412, 416}),
    ),
    Allowed(
        "redirect-keeps-query",
        frozenset({"location"}),
        lambda case: "?" in case.path,
        "Index files and redirects",
        "the query string is kept on a redirect",
    ),
    Allowed(
        "no-dotfiles",
        frozenset({"*"}),
        _path("/.well-known/security.txt"),
        "Dotfiles",
        "dotfiles and dot-directories are not served unless include_dotfiles=True",
    ),
    Allowed(
        "more-media-types",
        frozenset({"content-type"}),
        _path("/site.webmanifest"),
        "Media types",
        "more extensions are labelled (webmanifest, ...)",
    ),
    Allowed(
        "charset-on-textual-types",
        frozenset({"content-type"}),
        _path("/data.json"),
        "Media types",
        "JSON, XML and SVG get a charset too",
    ),
]
