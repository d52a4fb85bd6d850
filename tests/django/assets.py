"""Checks shared by the test-client tests and the real-server tests (no Django import).

``check_admin_assets(fetch, static_root, immutable)`` fetches the admin login
page and every /static/ asset it references with ``fetch(path, headers) ->
(status, headers (lower-case names), body)`` and checks each answer.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable, Mapping

import brotli
import zstandard

Fetch = Callable[[str, Mapping[str, str]], tuple[int, Mapping[str, str], bytes]]

TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml; charset=utf-8",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
IMMUTABLE = "public, max-age=31536000, immutable"
_REF = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


def decode(body: bytes, encoding: str | None) -> bytes:
    if encoding == "br":
        return brotli.decompress(body)
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    assert encoding is None, encoding
    return body


def static_refs(html: str) -> list[str]:
    return sorted(set(_REF.findall(html)))


def check_asset(
    fetch: Fetch, url: str, static_root: str, immutable: bool, prefix: str = "/static/"
) -> None:
    status, headers, body = fetch(url, {"Accept-Encoding": "br, gzip"})
    assert status == 200, (url, status)
    ext = os.path.splitext(url)[1]
    assert headers["content-type"] == TYPES[ext], (url, headers)
    on_disk = os.path.join(static_root, *url[len(prefix) :].split("/"))
    with open(on_disk, "rb") as f:
        expected = f.read()
    encoding = headers.get("content-encoding")
    if ext in (".css", ".js", ".svg") and len(expected) > 400:
        assert encoding == "br", (url, headers)
        assert headers["vary"] == "Accept-Encoding"
    assert int(headers["content-length"]) == len(body), (url, headers)
    assert decode(body, encoding) == expected, url
    assert headers["etag"].startswith('"'), headers
    if immutable:
        assert headers["cache-control"] == IMMUTABLE, (url, headers)
    else:
        assert headers["cache-control"] == "public, max-age=60", (url, headers)
    # The same URL without compression: identity bytes, exact length.
    status, headers, body = fetch(url, {})
    assert status == 200 and "content-encoding" not in headers
    assert body == expected and int(headers["content-length"]) == len(expected)


def check_admin_assets(fetch: Fetch, static_root: str, immutable: bool) -> list[str]:
    status, _, body = fetch("/admin/login/", {})
    assert status == 200, status
    refs = static_refs(body.decode())
    assert any(r.endswith(".css") for r in refs) and any(r.endswith(".js") for r in refs), refs
    for url in refs:
        check_asset(fetch, url, static_root, immutable)
    return refs


def check_passthrough(fetch: Fetch) -> None:
    """Paths that are not files reach Django's URLconf."""
    status, headers, body = fetch("/static/dynamic/x.css", {})
    assert status == 200 and body == b"urlconf:/static/dynamic/x.css", (status, body)
    status, headers, body = fetch("/static/no-such-file.css", {})
    assert status == 404 and headers["content-type"].startswith("text/html"), (status, headers)
    status, headers, body = fetch("/hello/", {})
    assert body == b"urlconf:/hello/"
    status, headers, body = fetch("/robots.txt", {})
    assert status == 200 and body.startswith(b"User-agent"), (status, body)
