"""Hostile request paths: none reads outside the index, none yields a 5xx.

Every case is sent twice:

* as exact request bytes over a raw socket to real uvicorn and gunicorn (a
  client library would normalise ``..`` or re-encode bytes before sending);
* through the ASGI and WSGI adapters in-process, with the path decoded the way
  servers decode it, in production mode and in ``autorefresh`` mode (the one
  mode where a request path is mapped onto the filesystem).

A secret lives next to the root (``outside/secret.txt``) and is also the
target of a symlink inside the root; dotfiles and the manifest carry markers.
No response may contain any of them, whatever its status.
"""

from __future__ import annotations

import asyncio
import json
import socket
import unicodedata
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from staticserve import StaticServe, StaticServeWSGI
from tests.hardening.conftest import CSS, NFC_NAME, HostileTree, make_hostile_tree
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(60)

NFD_NAME = unicodedata.normalize("NFD", NFC_NAME)
assert NFD_NAME != NFC_NAME


def q(text: str) -> bytes:
    return urllib.parse.quote(text, safe="/").encode("ascii")


# (case id, request-target bytes). Every one of them must miss the index.
HOSTILE: list[tuple[str, bytes]] = [
    ("dotdot", b"/static/../outside/secret.txt"),
    ("dotdot-twice", b"/static/../../outside/secret.txt"),
    ("dotdot-inside-dir", b"/static/css/../../outside/secret.txt"),
    ("dotdot-many", b"/static/" + b"../" * 12 + b"etc/passwd"),
    ("pct-2e2e", b"/static/%2e%2e/outside/secret.txt"),
    ("pct-2E2E-upper", b"/static/%2E%2E/%2E%2E/outside/secret.txt"),
    ("pct-mixed-dot", b"/static/.%2e/outside/secret.txt"),
    ("double-encoded", b"/static/%252e%252e/outside/secret.txt"),
    ("double-encoded-slash", b"/static/..%252foutside%252fsecret.txt"),
    ("dotdot-encoded-slash", b"/static/..%2foutside%2fsecret.txt"),
    ("dotdot-encoded-slash-upper", b"/static/..%2Foutside/secret.txt"),
    ("backslash", b"/static/..\\outside\\secret.txt"),
    ("backslash-encoded", b"/static/..%5coutside%5csecret.txt"),
    ("backslash-encoded-upper", b"/static/..%5Coutside%5Csecret.txt"),
    ("overlong-dot-2byte", b"/static/%c0%ae%c0%ae/outside/secret.txt"),
    ("overlong-slash-2byte", b"/static/..%c0%afoutside%c0%afsecret.txt"),
    ("overlong-dot-3byte", b"/static/%e0%80%ae%e0%80%ae/outside/secret.txt"),
    ("overlong-backslash", b"/static/..%c1%9coutside%c1%9csecret.txt"),
    ("nul-before-ext", b"/static/css/site.css%00.png"),
    ("nul-traversal", b"/static/%00/../outside/secret.txt"),
    ("nul-alone", b"/static/%00"),
    ("semicolon-dotdot", b"/static/..;/outside/secret.txt"),
    ("semicolon-param", b"/static/css/site.css;.png"),
    ("semicolon-segment", b"/static/;/../outside/secret.txt"),
    ("absolute-etc", b"/static//etc/passwd"),
    ("absolute-secret", b"/static/" + b"{SECRET_ABS}"),
    ("absolute-encoded", b"/static/%2Fetc%2Fpasswd"),
    ("absolute-encoded-secret", b"/static/{SECRET_ABS_ENC}"),
    ("unc-backslashes", b"/static/\\\\localhost\\c$\\secret.txt"),
    ("unc-mixed", b"/static//\\server\\share\\secret.txt"),
    ("unc-encoded", b"/static/%5c%5cserver%5cshare"),
    ("windows-drive", b"/static/C:/Windows/win.ini"),
    ("windows-drive-backslash", b"/static/C:%5cWindows%5cwin.ini"),
    ("long-10k", b"/static/" + b"a" * 10_000),
    ("long-10k-traversal", b"/static/" + b"../" * 3_400 + b"outside/secret.txt"),
    ("long-10k-encoded", b"/static/" + b"%2e%2e/" * 1_500 + b"outside/secret.txt"),
    ("crlf-injection", b"/static/css/site.css%0d%0aX-Injected:%20yes"),
    ("control-encoded", b"/static/%01%02%1b%7f"),
    ("control-raw", b"/static/\x01css"),
    ("tab-encoded", b"/static/%09/../outside/secret.txt"),
    ("non-utf8-encoded", b"/static/%ff%fe"),
    ("non-utf8-raw", b"/static/\xff\xfe"),
    ("latin1-name", b"/static/r%e9sum%e9.txt"),
    ("lone-surrogate", b"/static/%ed%a0%80.txt"),
    ("nfd-of-real-name", q("/static/" + NFD_NAME)),
    ("nfkc-fullwidth-dots", b"/static/%ef%bc%8e%ef%bc%8e/outside/secret.txt"),
    ("nfkc-fullwidth-solidus", b"/static/..%ef%bc%8foutside%ef%bc%8fsecret.txt"),
    ("two-dot-leader", b"/static/%e2%80%a5/outside/secret.txt"),
    ("symlink-file-out", b"/static/escape.txt"),
    ("symlink-dir-out", b"/static/escdir/secret.txt"),
    ("symlink-dir-out-nested", b"/static/escdir/dir/secret2.txt"),
    ("dotfile", b"/static/.env"),
    ("dotfile-encoded", b"/static/%2eenv"),
    ("dot-dir", b"/static/.git/config"),
    ("dot-dir-encoded-slash", b"/static/.git%2fconfig"),
    ("dot-segment", b"/static/./.env"),
    ("sibling-br", b"/static/css/site.css.br"),
    ("sibling-gz", b"/static/css/site.css.gz"),
    ("manifest", b"/static/staticfiles.json"),
    ("absolute-form", b"http://127.0.0.1/static/../outside/secret.txt"),
    ("prefix-without-slash", b"/static..%2foutside/secret.txt"),
    ("empty-segments", b"/static//css//site.css"),
    ("trailing-dot", b"/static/css/site.css."),
    ("trailing-slash", b"/static/css/site.css/"),
]

# Cases that may legitimately hit: (request-target, rel of the file it names).
LEGIT: list[tuple[str, bytes, str]] = [
    ("plain", b"/static/css/site.css", "css/site.css"),
    ("query-with-dotdot", b"/static/css/site.css?../../outside/secret.txt", "css/site.css"),
    ("nfc-name", q("/static/" + NFC_NAME), NFC_NAME),
    ("hashed", b"/static/app.3f2a1b9c8d7e.js", "app.3f2a1b9c8d7e.js"),
]


def target_for(raw: bytes, tree: HostileTree) -> bytes:
    secret = str(tree.outside / "secret.txt").lstrip("/")
    return raw.replace(b"{SECRET_ABS}", secret.encode()).replace(
        b"{SECRET_ABS_ENC}", q(secret).replace(b"/", b"%2F")
    )


# -- raw sockets to real servers -------------------------------------------------


def raw_request(server: Server, target: bytes, method: bytes = b"GET") -> tuple[int, bytes]:
    """Send exact bytes; return (status or 0 if none, whole response)."""
    port = int(server.url.rsplit(":", 1)[1])
    request = (
        method + b" " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Accept-Encoding: identity\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
    response = b"".join(chunks)
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.") else 0
    return status, response


def split_body(response: bytes) -> bytes:
    """The body of one raw HTTP/1.1 response, de-chunked if need be."""
    head, _, body = response.partition(b"\r\n\r\n")
    if b"transfer-encoding: chunked" not in head.lower():
        return body
    out = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        body = rest[size + 2 :]
    return b"".join(out)


@pytest.fixture(
    scope="module",
    params=[
        ("uvicorn", "tests.hardening.apps:asgi_app"),
        ("gunicorn", "tests.hardening.apps:wsgi_app"),
    ],
    ids=["uvicorn", "gunicorn"],
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, HostileTree]]:
    kind, target = request.param
    tree = make_hostile_tree(tmp_path_factory.mktemp(f"paths-{kind}"))
    env = {"HARDEN_ROOT": str(tree.root), "HARDEN_OPTIONS": "{}"}
    with running_server(kind, target, env=env) as server:
        yield server, tree
    # Checked once every test has used the server (at teardown, so in any order).
    log = server.log()
    assert "Traceback" not in log, log
    assert "Exception" not in log, log


def assert_not_leaked(status: int, response: bytes, tree: HostileTree) -> None:
    for marker in tree.forbidden:
        assert marker not in response, f"leaked {marker!r}"
    assert not 500 <= status < 600, response[:300]


@pytest.mark.parametrize("raw", [c[1] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_path_over_raw_socket_never_leaks_or_fails(
    served: tuple[Server, HostileTree], raw: bytes
) -> None:
    server, tree = served
    status, response = raw_request(server, target_for(raw, tree))
    assert_not_leaked(status, response, tree)
    if status == 200:  # the server passed it on: it must reach the app, not a file
        assert split_body(response).startswith(b"app: "), response[:300]
    else:  # the server itself refused the request line, or nothing was sent
        assert status in (0, 400, 404, 414), response[:300]


@pytest.mark.parametrize("raw", [c[1] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_path_with_head_and_post_never_leaks_or_fails(
    served: tuple[Server, HostileTree], raw: bytes
) -> None:
    server, tree = served
    for method in (b"HEAD", b"POST"):
        status, response = raw_request(server, target_for(raw, tree), method)
        assert_not_leaked(status, response, tree)


@pytest.mark.parametrize(("raw", "rel"), [c[1:] for c in LEGIT], ids=[c[0] for c in LEGIT])
def test_legitimate_path_over_raw_socket_serves_the_file(
    served: tuple[Server, HostileTree], raw: bytes, rel: str
) -> None:
    server, tree = served
    status, response = raw_request(server, raw)
    assert status == 200
    assert split_body(response) == tree.files[rel]


# -- through the adapters, in-process ---------------------------------------------

CONFIGS: dict[str, dict[str, Any]] = {
    "production": {},
    "autorefresh": {"autorefresh": True},
    "autorefresh-index": {"autorefresh": True, "index_file": True},
}

# Decoded paths no server would produce from bytes alone, but an adapter may see
# (another middleware, a test client, a proxy that decodes).
DECODED_EXTRA: list[tuple[str, str]] = [
    ("decoded-backslash-traversal", "/static/..\\..\\outside\\secret.txt"),
    ("decoded-nul", "/static/css/site.css\x00"),
    ("decoded-surrogate", "/static/\udcff\udcfe"),
    ("decoded-absolute-secret", "/static/{SECRET_ABS}"),
    ("decoded-double-slash-absolute", "/static//{SECRET_ABS}"),
    ("decoded-dir-only", "/static/escdir/"),
    ("decoded-dot-dir", "/static/.git/"),
    ("decoded-prefix-only", "/static/"),
]


def asgi_path(raw: bytes) -> str:
    """What uvicorn puts in scope["path"]: percent-decoded, UTF-8 with replacement."""
    return urllib.parse.unquote(raw.split(b"?")[0].decode("latin-1"))


def wsgi_path(raw: bytes) -> str:
    """PEP 3333 PATH_INFO: the percent-decoded bytes, read as latin-1."""
    return urllib.parse.unquote_to_bytes(raw.split(b"?")[0]).decode("latin-1")


def all_adapter_cases(tree: HostileTree) -> list[tuple[str, str, str]]:
    """(id, ASGI path, WSGI PATH_INFO) for every hostile case."""
    cases = []
    for case_id, raw in HOSTILE:
        raw = target_for(raw, tree)
        if raw.startswith(b"http://"):
            raw = raw[len(b"http://127.0.0.1") :]
        cases.append((case_id, asgi_path(raw), wsgi_path(raw)))
    secret = str(tree.outside / "secret.txt").lstrip("/")
    for case_id, path in DECODED_EXTRA:
        path = path.replace("{SECRET_ABS}", secret)
        wsgi = path.encode("utf-8", "surrogateescape").decode("latin-1")
        cases.append((case_id, path, wsgi))
    return cases


async def call_asgi(app: StaticServe, path: str, method: str) -> tuple[int, bytes]:
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"accept-encoding", b"identity")],
    }
    await app(scope, receive, send)
    status = messages[0]["status"]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return status, body


def call_wsgi(app: StaticServeWSGI, path_info: str, method: str) -> tuple[int, bytes]:
    captured: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured.append(status)

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path_info,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "HTTP_ACCEPT_ENCODING": "identity",
        "wsgi.url_scheme": "http",
    }
    iterable = app(environ, start_response)
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close:
            close()
    return int(captured[0].split()[0]), body


@pytest.fixture(scope="module")
def hostile_tree(tmp_path_factory: pytest.TempPathFactory) -> HostileTree:
    return make_hostile_tree(tmp_path_factory.mktemp("adapters"))


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_asgi_adapter_answers_every_hostile_path_with_404(
    hostile_tree: HostileTree, config: str
) -> None:
    app = StaticServe(None, root=hostile_tree.root, prefix="/static/", **CONFIGS[config])
    results = {}

    async def run_all() -> None:
        for case_id, path, _ in all_adapter_cases(hostile_tree):
            for method in ("GET", "HEAD"):
                results[case_id, method] = await call_asgi(app, path, method)

    asyncio.run(run_all())
    wrong = {k: v for k, v in results.items() if v[0] != 404}
    assert not wrong, wrong
    for _, body in results.values():
        for marker in hostile_tree.forbidden:
            assert marker not in body


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_wsgi_adapter_answers_every_hostile_path_with_404(
    hostile_tree: HostileTree, config: str
) -> None:
    app = StaticServeWSGI(None, root=hostile_tree.root, prefix="/static/", **CONFIGS[config])
    results = {}
    for case_id, _, path_info in all_adapter_cases(hostile_tree):
        for method in ("GET", "HEAD"):
            results[case_id, method] = call_wsgi(app, path_info, method)
    wrong = {k: v for k, v in results.items() if v[0] != 404}
    assert not wrong, wrong
    for _, body in results.values():
        for marker in hostile_tree.forbidden:
            assert marker not in body


@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_adapters_still_serve_the_legitimate_paths(hostile_tree: HostileTree, config: str) -> None:
    asgi = StaticServe(None, root=hostile_tree.root, prefix="/static/", **CONFIGS[config])
    wsgi = StaticServeWSGI(None, root=hostile_tree.root, prefix="/static/", **CONFIGS[config])
    for _, raw, rel in LEGIT:
        expected = hostile_tree.files[rel]
        assert asyncio.run(call_asgi(asgi, asgi_path(raw), "GET")) == (200, expected)
        assert call_wsgi(wsgi, wsgi_path(raw), "GET") == (200, expected)


def test_nfd_spelling_of_a_file_name_is_not_that_file(hostile_tree: HostileTree) -> None:
    # Lookup is an exact match: a differently normalised name is another URL.
    app = StaticServe(None, root=hostile_tree.root, prefix="/static/")
    assert asyncio.run(call_asgi(app, "/static/" + NFD_NAME, "GET"))[0] == 404
    assert asyncio.run(call_asgi(app, "/static/" + NFC_NAME, "GET"))[0] == 200


def test_compressed_sibling_is_not_served_by_its_own_name(hostile_tree: HostileTree) -> None:
    app = StaticServe(None, root=hostile_tree.root, prefix="/static/")
    assert asyncio.run(call_asgi(app, "/static/css/site.css.br", "GET"))[0] == 404
    assert asyncio.run(call_asgi(app, "/static/css/site.css", "GET")) == (200, CSS)


def test_secret_file_is_outside_the_root(hostile_tree: HostileTree) -> None:
    # Guards the suite itself: the secret really is readable, just not servable.
    secret = hostile_tree.outside / "secret.txt"
    assert secret.read_bytes().startswith(hostile_tree.forbidden[0])
    assert (hostile_tree.root / "escape.txt").read_bytes() == secret.read_bytes()
    assert not str(secret.resolve()).startswith(str(hostile_tree.root.resolve()))
    assert json.loads((hostile_tree.root / "staticfiles.json").read_text())["version"] == "1.1"


def test_index_contains_only_vetted_urls(hostile_tree: HostileTree) -> None:
    app = StaticServe(None, root=hostile_tree.root, prefix="/static/")
    assert app.files.index.urls() == sorted("/static/" + rel for rel in hostile_tree.files)


_ = Path  # (kept for type hints in helpers above)
