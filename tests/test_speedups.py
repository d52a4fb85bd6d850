"""The C fast path (staticserve._speedups) sends what the pure-Python path sends.

Each property drives two adapters over the same tree, one with the C fast
path and one without, with the same request, and compares every message (or
start_response call and body) and what reached the wrapped app.
"""

from __future__ import annotations

import shutil
import sysconfig
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticserve import StaticServe, StaticServeWSGI, speedups
from tests.conftest import HASHED_JS, NON_ASCII_NAME, StaticTree
from tests.test_asgi import call as call_asgi
from tests.test_wsgi import call as call_wsgi

needs_c = pytest.mark.skipif(not speedups.built(), reason="staticserve._speedups is not built")

PATHS = [
    "/static/css/site.css",
    "/static/" + HASHED_JS,
    "/static/img/logo.png",
    "/static/js/plain.js",
    "/static/missing.css",
    "/static/css/",
    "/static/css",
    "/static/",
    "/api/x",
    "/",
    "/static/../static/css/site.css",
    "/staticx/a",
]
ACCEPT = [None, b"br, gzip", b"gzip", b"br;q=0, gzip", b"identity", b"*;q=0", b"x-gzip"]
ACCEPT.append(b"bo\xffgus")  # not latin-1 text a browser sends
EXTRA = [
    b"range",
    b"if-match",
    b"if-unmodified-since",
    b"if-modified-since",
    b"accept-encoding",
    b"if-none-match",
    b"cache-control",
    b"accept",
]
# PEP 3333's form of a non-ASCII path: its UTF-8 bytes read as latin-1.
NON_ASCII_WSGI_PATH = ("/static/" + NON_ASCII_NAME).encode().decode("latin-1")
VALUES = [b"bytes=0-3", b"*", b'"x"', b"Sun, 06 Nov 1994 08:49:37 GMT", b"gzip", b"text/html", b""]


def _inner_asgi(seen: list[Any]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        kind = scope["path"].rsplit("/", 1)[-1]
        headers = [(b"content-type", b"text/plain")]
        if kind == "cached":
            headers.append((b"Cache-Control", b"max-age=60"))
        status = 200 if scope["path"].startswith("/api") else 404
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"app"})

    return app


def _inner_wsgi(seen: list[Any]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        seen.append(environ["PATH_INFO"])
        status = "200 OK" if environ["PATH_INFO"].startswith("/api") else "404 Not Found"
        start_response(status, [("Content-Type", "text/plain")])
        return [b"app"]

    return app


def run_wsgi(app: StaticServeWSGI, environ: dict[str, Any]) -> tuple[str, list[Any], bytes]:
    """Status, header list (order and repeats kept) and body, as a server sees them."""
    response, body = call_wsgi(app, environ)
    return response.status, response.header_list, body


def pair(kind: type, static_tree: StaticTree, **options: Any) -> tuple[Any, Any, list, list]:
    seen_c: list[Any] = []
    seen_py: list[Any] = []
    inner = _inner_asgi if kind is StaticServe else _inner_wsgi
    fast = kind(inner(seen_c), root=static_tree.root, prefix="/static/", **options)
    slow = kind(inner(seen_py), root=static_tree.root, prefix="/static/", **options)
    slow._fast = None  # the pure-Python path
    return fast, slow, seen_c, seen_py


@needs_c
def test_extension_is_the_fast_path_by_default(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, prefix="/static/")
    assert app._fast is not None
    assert type(app._fast).__name__ == "Lookup"


def test_extension_is_built_where_a_c_compiler_is() -> None:
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        pytest.skip(f"no C compiler ({compiler}): the pure-Python path runs")
    assert speedups.built(), "pip install built no staticserve._speedups although a compiler exists"


def test_no_speedups_environment_variable_turns_the_c_path_off(
    static_tree: StaticTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(speedups, "ENABLED", False)
    assert StaticServe(None, root=static_tree.root, prefix="/static/")._fast is None
    assert StaticServeWSGI(None, root=static_tree.root, prefix="/static/")._fast is None


@needs_c
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    path=st.sampled_from(PATHS),
    method=st.sampled_from(["GET", "HEAD", "POST", "get"]),
    accept=st.sampled_from(ACCEPT),
    tag_form=st.sampled_from([None, "exact", "weak", "list", "other", "empty"]),
    extra=st.lists(st.tuples(st.sampled_from(EXTRA), st.sampled_from(VALUES)), max_size=3),
    root_path=st.sampled_from(["", "/mount", "/static"]),
    as_tuple=st.booleans(),
)
def test_asgi_c_path_sends_what_the_python_path_sends(
    static_tree: StaticTree,
    path: str,
    method: str,
    accept: bytes | None,
    tag_form: str | None,
    extra: list[tuple[bytes, bytes]],
    root_path: str,
    as_tuple: bool,
) -> None:
    fast, slow, seen_c, seen_py = pair(StaticServe, static_tree)
    full = root_path + path if root_path else path
    base = {
        "type": "http",
        "method": method,
        "path": full,
        "root_path": root_path,
        "query_string": b"",
        "headers": [],
    }
    asked = [] if accept is None else [(b"accept-encoding", accept)]
    probe = call_asgi(slow, {**base, "headers": asked})
    current = dict(probe[0].get("headers") or ()).get(b"etag", b'"none"')
    tag = {
        None: None,
        "exact": current,
        "weak": b"W/" + current,
        "list": b'"x", ' + current,
        "other": b'"other"',
        "empty": b"",
    }[tag_form]
    headers = [(b"host", b"example.org")]
    if accept is not None:
        headers.append((b"accept-encoding", accept))
    if tag is not None:
        headers.append((b"if-none-match", tag))
    headers += extra
    scope = {**base, "headers": tuple(headers) if as_tuple else headers}
    for _ in range(2):  # the first request may load the file; the second is a fresh hit
        seen_c.clear()
        seen_py.clear()
        assert call_asgi(fast, dict(scope)) == call_asgi(slow, dict(scope))
        assert seen_c == seen_py


@needs_c
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    path=st.sampled_from([*PATHS, NON_ASCII_WSGI_PATH, ""]),
    method=st.sampled_from(["GET", "HEAD", "POST", None]),
    accept=st.sampled_from([None, "br, gzip", "gzip", "identity", "*;q=0"]),
    tag_form=st.sampled_from([None, "exact", "weak", "list", "other", "empty"]),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "HTTP_RANGE",
                "HTTP_IF_MATCH",
                "HTTP_IF_UNMODIFIED_SINCE",
                "HTTP_IF_MODIFIED_SINCE",
                "HTTP_ACCEPT",
            ]
        ),
        st.sampled_from([v.decode("latin-1") for v in VALUES]),
        max_size=2,
    ),
)
def test_wsgi_c_path_sends_what_the_python_path_sends(
    static_tree: StaticTree,
    path: str,
    method: str | None,
    accept: str | None,
    tag_form: str | None,
    extra: dict[str, str],
) -> None:
    fast, slow, seen_c, seen_py = pair(StaticServeWSGI, static_tree)

    def environ(**headers: str) -> dict[str, Any]:
        env: dict[str, Any] = {"PATH_INFO": path, "QUERY_STRING": "", "wsgi.url_scheme": "http"}
        if method is not None:
            env["REQUEST_METHOD"] = method
        if accept is not None:
            env["HTTP_ACCEPT_ENCODING"] = accept
        env.update(headers)
        return env

    _, probe, _ = run_wsgi(slow, environ())
    current = dict(probe).get("ETag", '"none"')
    tag = {
        None: None,
        "exact": current,
        "weak": "W/" + current,
        "list": '"x", ' + current,
        "other": '"other"',
        "empty": "",
    }[tag_form]
    headers = dict(extra)
    if tag is not None:
        headers["HTTP_IF_NONE_MATCH"] = tag
    for _ in range(2):
        seen_c.clear()
        seen_py.clear()
        assert run_wsgi(fast, environ(**headers)) == run_wsgi(slow, environ(**headers))
        assert seen_c == seen_py


# More distinct values than the C path remembers (8), two of one length, one
# longer than it keeps (256 bytes); the sequence is also sent in reverse.
ACCEPT_SEQUENCE = [b"br", b"gz", b"gzip", b"br, gzip", b"identity", b"br;q=0, gzip", b"*"]
ACCEPT_SEQUENCE += [b"gzip;q=0", b"zstd", b"x-gzip", b"br;q=0.5, gzip;q=1"]
ACCEPT_SEQUENCE.append(b"deflate, " * 30 + b"br")


@needs_c
@pytest.mark.parametrize("kind", [StaticServe, StaticServeWSGI])
def test_c_path_negotiates_each_new_accept_encoding_object_by_its_value(
    static_tree: StaticTree, kind: type
) -> None:
    """Servers make a new object per request: equal values share an answer, others never."""
    fast, slow, _, _ = pair(kind, static_tree)
    for value in [*ACCEPT_SEQUENCE, *ACCEPT_SEQUENCE[::-1], *ACCEPT_SEQUENCE] * 2:
        fresh = bytes(bytearray(value))  # a new object each time, as from a server
        if kind is StaticServe:
            scope = {**_scope("/static/css/site.css"), "headers": [(b"accept-encoding", fresh)]}
            assert call_asgi(fast, scope) == call_asgi(slow, dict(scope)), value
        else:
            environ = {
                "REQUEST_METHOD": "GET",
                "PATH_INFO": "/static/css/site.css",
                "HTTP_ACCEPT_ENCODING": fresh.decode("latin-1"),
            }
            assert run_wsgi(fast, dict(environ)) == run_wsgi(slow, dict(environ)), value


@needs_c
def test_a_negotiation_the_python_path_stored_is_keyed_by_the_c_paths_own_object(
    static_tree: StaticTree,
) -> None:
    """A file's first requests run in Python (its load); the C lookup that
    follows must meet its own kept object as the key (no compare of the bytes)."""
    _, slow, _, _ = pair(StaticServe, static_tree)
    slow.files.load("/static/css/site.css")
    first = bytes(bytearray(b"gzip, deflate, br, zstd"))
    scope = {**_scope("/static/css/site.css"), "headers": [(b"accept-encoding", first)]}
    call_asgi(slow, scope)
    later = bytes(bytearray(first))  # the next request's own object
    resource = slow.files.find("/static/css/site.css")
    assert any(key is speedups.kept_accept(later) for key in resource.negotiated)


@needs_c
@pytest.mark.parametrize("kind", [StaticServe, StaticServeWSGI])
def test_c_path_follows_a_file_that_changed_on_disk(
    static_tree: StaticTree, kind: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow, _, _ = pair(kind, static_tree, recheck_interval=0)
    path = "/static/css/site.css"
    first = _answer(fast, path)
    static_tree.write("css/site.css", b"body { color: green }\n" * 50)
    for name in ("css/site.css.br", "css/site.css.gz", "css/site.css.zst"):
        static_tree.path(name).unlink(missing_ok=True)
    changed = _answer(fast, path)
    assert changed != first
    assert changed == _answer(slow, path)


@needs_c
@pytest.mark.parametrize("kind", [StaticServe, StaticServeWSGI])
def test_c_path_serves_a_root_added_to_the_files_later(
    static_tree: StaticTree, kind: type, tmp_path: Path
) -> None:
    fast, slow, _, _ = pair(kind, static_tree)
    other = tmp_path / "other"
    other.mkdir()
    (other / "late.txt").write_bytes(b"added later")
    for app in (fast, slow):
        app.files.add_files(other, "/other/")  # on the files, not through the adapter
    answer = _answer(fast, "/other/late.txt")
    assert answer == _answer(slow, "/other/late.txt")
    assert (answer[1]["body"] if kind is StaticServe else answer[2]) == b"added later"


def _answer(app: Any, path: str) -> Any:
    if isinstance(app, StaticServe):
        return call_asgi(
            app,
            {
                "type": "http",
                "method": "GET",
                "path": path,
                "root_path": "",
                "query_string": b"",
                "headers": [(b"accept-encoding", b"br")],
            },
        )
    return run_wsgi(app, {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_ACCEPT_ENCODING": "br"})


# -- the miss marking --------------------------------------------------------


def marked_asgi(static_tree: StaticTree, start: dict[str, Any]) -> tuple[list[Any], Any]:
    """What the C path sends when the app answers a static miss with ``start``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send(start)
        await send({"type": "http.response.body", "body": b"x"})

    served = StaticServe(app, root=static_tree.root, prefix="/static/")
    assert served._fast is not None
    return call_asgi(
        served,
        {
            "type": "http",
            "method": "GET",
            "path": "/static/nope.css",
            "root_path": "",
            "query_string": b"",
            "headers": [],
        },
    ), start


@needs_c
def test_c_marking_adds_no_store_to_the_apps_404_on_a_copy(static_tree: StaticTree) -> None:
    start = {"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"x")]}
    sent, original = marked_asgi(static_tree, start)
    assert sent[0]["headers"] == [(b"content-type", b"x"), (b"cache-control", b"no-store")]
    assert original["headers"] == [(b"content-type", b"x")]  # the app's dict is not changed


@needs_c
def test_c_marking_reads_a_start_whose_keys_are_not_the_interned_names(
    static_tree: StaticTree,
) -> None:
    """Keys built at run time (json.loads, a dict of parts) are other str objects."""
    start = {"".join(k): v for k, v in [(("ty", "pe"), "http.response.start"),
                                        (("sta", "tus"), 404), (("head", "ers"), []),
                                        (("trail", "ers"), False)]}  # fmt: skip
    sent, _ = marked_asgi(static_tree, start)
    assert sent[0]["headers"] == [(b"cache-control", b"no-store")]
    assert sent[0]["status"] == 404 and sent[0]["trailers"] is False


@needs_c
@pytest.mark.parametrize("name", [b"cache-control", b"Cache-Control", b"CACHE-CONTROL"])
def test_c_marking_keeps_the_apps_own_cache_control(static_tree: StaticTree, name: bytes) -> None:
    start = {"type": "http.response.start", "status": 500, "headers": [(name, b"max-age=5")]}
    sent, _ = marked_asgi(static_tree, start)
    assert sent[0] is start


@needs_c
@pytest.mark.parametrize("status", [200, 304, 399])
def test_c_marking_leaves_a_success_alone(static_tree: StaticTree, status: int) -> None:
    start = {"type": "http.response.start", "status": status, "headers": []}
    sent, _ = marked_asgi(static_tree, start)
    assert sent[0] is start


@needs_c
def test_c_marking_adds_the_header_to_a_start_without_headers(static_tree: StaticTree) -> None:
    sent, _ = marked_asgi(static_tree, {"type": "http.response.start", "status": 404})
    assert sent[0]["headers"] == [(b"cache-control", b"no-store")]


def marked_wsgi(static_tree: StaticTree, call: Any) -> list[Any]:
    """The start_response calls reaching the server when the app makes ``call``."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        call(start_response)
        return [b"x"]

    served = StaticServeWSGI(app, root=static_tree.root, prefix="/static/")
    assert served._fast is not None
    seen: list[Any] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
        seen.append((status, headers, exc_info))

    list(served({"REQUEST_METHOD": "GET", "PATH_INFO": "/static/nope.css"}, start_response))
    return seen


@needs_c
@pytest.mark.parametrize("headers", [[("Content-Type", "x")], (("Content-Type", "x"),)])
def test_c_wsgi_marking_adds_no_store_to_an_error(static_tree: StaticTree, headers: Any) -> None:
    seen = marked_wsgi(static_tree, lambda sr: sr("404 Not Found", headers))
    assert seen == [("404 Not Found", [("Content-Type", "x"), ("cache-control", "no-store")], None)]


@needs_c
def test_c_wsgi_marking_passes_exc_info_by_position_and_by_name(static_tree: StaticTree) -> None:
    info = (ValueError, ValueError("x"), None)
    by_position = marked_wsgi(static_tree, lambda sr: sr("500 Oops", [], info))
    by_name = marked_wsgi(static_tree, lambda sr: sr("500 Oops", [], exc_info=info))
    expected = [("500 Oops", [("cache-control", "no-store")], info)]
    assert by_position == expected
    assert by_name == expected


@needs_c
def test_c_wsgi_marking_keeps_the_apps_cache_control(static_tree: StaticTree) -> None:
    headers = [("cache-CONTROL", "max-age=1")]
    seen = marked_wsgi(static_tree, lambda sr: sr("404 Not Found", headers))
    assert seen == [("404 Not Found", headers, None)]


@needs_c
def test_lookup_used_before_init_raises_instead_of_crashing() -> None:
    lookup = speedups._speedups.Lookup.__new__(speedups._speedups.Lookup)
    with pytest.raises(RuntimeError):
        lookup.asgi({}, None)
    with pytest.raises(TypeError):
        lookup.wsgi({})


# -- references ---------------------------------------------------------------


@needs_c
def test_c_paths_leak_no_objects(static_tree: StaticTree) -> None:
    """20,000 calls of each C path: a reference leaked per call would hold 20,000 blocks."""
    import sys

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response("404 Not Found", [])
        return [b""]

    asgi = StaticServe(app, root=static_tree.root, prefix="/static/", recheck_interval=1e9)
    wsgi = StaticServeWSGI(wsgi_app, root=static_tree.root, prefix="/static/", recheck_interval=1e9)
    hit = "/static/css/site.css"
    asgi.files.load(hit)
    wsgi.files.load(hit)
    tag = dict(asgi._fast.asgi(_scope(hit), None)[0]["headers"])[b"etag"]

    async def send(message: Any) -> None:
        pass

    def drive(scope: dict[str, Any]) -> None:
        coro = asgi(scope, None, send)  # type: ignore[arg-type]
        with pytest.raises(StopIteration):
            coro.send(None)

    def start_response(*args: Any) -> None:
        pass

    calls = {
        "hit": lambda: drive(_scope(hit)),
        "304": lambda: drive(_scope(hit, (b"if-none-match", tag))),
        "miss": lambda: drive(_scope("/static/nope.css")),
        "pass": lambda: drive(_scope("/elsewhere")),
        "wsgi hit": lambda: wsgi({"PATH_INFO": hit, "HTTP_ACCEPT_ENCODING": "br"}, start_response),
        "wsgi miss": lambda: wsgi({"PATH_INFO": "/static/nope.css"}, start_response),
    }
    for name, call in calls.items():
        for _ in range(1000):
            call()
        before = sys.getallocatedblocks()
        for _ in range(20_000):
            call()
        assert sys.getallocatedblocks() - before < 2_000, name


def _scope(path: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [(b"accept-encoding", b"br, gzip"), *headers],
    }
