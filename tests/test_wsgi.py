"""The WSGI adapter: through httpx's WSGITransport, and by calling it with
PEP 3333 environs where httpx cannot express the case (latin-1 PATH_INFO,
SCRIPT_NAME, wsgi.file_wrapper, iterables closed early)."""

from __future__ import annotations

import os
import wsgiref.util
from collections.abc import Iterable
from typing import Any

import httpx
import pytest

from staticserve import StaticServeWSGI
from tests.conftest import NON_ASCII_NAME, StaticTree

# Every test runs on the C fast path and on the pure-Python path.
pytestmark = pytest.mark.usefixtures("both_paths")

BIG = 3 * 1024 * 1024


# -- helpers --------------------------------------------------------------------


def fetch(
    app: Any, url: str, method: str = "GET", headers: dict[str, str] | None = None
) -> httpx.Response:
    with httpx.Client(transport=httpx.WSGITransport(app), base_url="http://testserver") as client:
        return client.request(method, url, headers=headers)


def pep3333(text: str) -> str:
    """A path as a WSGI server puts it in the environ: UTF-8 bytes as latin-1."""
    return text.encode("utf-8").decode("latin-1")


def environ(path_info: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path_info,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "HTTP_ACCEPT_ENCODING": "identity",
        **extra,
    }


class Response:
    def __init__(self) -> None:
        self.status = ""
        self.headers: dict[str, str] = {}
        self.header_list: list[tuple[str, str]] = []  # as given, order and repeats kept

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.header_list = list(headers)


def call(app: Any, env: dict[str, Any]) -> tuple[Response, bytes]:
    """Call the app like a server: iterate the body, then close it."""
    response = Response()
    iterable = app(env, response.start_response)
    try:
        body = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    return response, body


def inner_app(env: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app: " + env["PATH_INFO"].encode("latin-1")]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class RecordingFileWrapper:
    """A ``wsgi.file_wrapper`` that records its use and wraps with wsgiref's."""

    def __init__(self) -> None:
        self.wrapped: list[tuple[str, int]] = []

    def __call__(self, filelike: Any, block_size: int = 8192) -> wsgiref.util.FileWrapper:
        self.wrapped.append((filelike.name, block_size))
        return wsgiref.util.FileWrapper(filelike, block_size)


# -- pass-through and basics -----------------------------------------------------


def test_standalone_answers_404_to_a_miss(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    response = fetch(app, "/static/missing.css")
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_wrapped_app_receives_a_static_miss(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(inner_app, root=static_tree.root)
    assert fetch(app, "/static/missing.css").text == "app: /static/missing.css"


def test_wrapped_app_receives_paths_outside_the_prefix(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(inner_app, root=static_tree.root)
    assert fetch(app, "/api").text == "app: /api"


def test_file_is_served_with_its_headers(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    response = fetch(app, "/static/css/site.css", headers={"accept-encoding": "br"})
    assert response.headers["content-encoding"] == "br"
    assert response.headers["content-type"] == "text/css; charset=utf-8"
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == static_tree.read("css/site.css")


def test_head_has_the_headers_of_get_and_no_body(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    get = fetch(app, "/static/big.bin")
    head = fetch(app, "/static/big.bin", method="HEAD")
    assert head.content == b""
    assert head.headers == get.headers


def test_post_gives_405_allowing_get_and_head(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(inner_app, root=static_tree.root)
    response = fetch(app, "/static/css/site.css", method="POST")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


# -- PATH_INFO and SCRIPT_NAME ---------------------------------------------------


def test_non_ascii_path_info_is_decoded_from_latin1_carried_utf8(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    response, body = call(app, environ(pep3333("/static/" + NON_ASCII_NAME)))
    assert response.status == "200 OK"
    assert body == static_tree.read(NON_ASCII_NAME)


def test_path_info_that_is_not_utf8_passes_through(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(inner_app, root=static_tree.root)
    _, body = call(app, environ("/static/r\xe9sum\xe9.txt"))  # latin-1 bytes, not UTF-8
    assert body == b"app: /static/r\xe9sum\xe9.txt"


def test_non_ascii_prefix_matches_the_pep3333_form(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root, prefix="/stätic/")
    _, body = call(app, environ(pep3333("/stätic/img/logo.png")))
    assert body == static_tree.read("img/logo.png")


def test_script_name_mount_serves_by_path_info(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    env = environ("/static/img/logo.png", SCRIPT_NAME="/mount")
    assert call(app, env)[1] == static_tree.read("img/logo.png")


def test_index_redirect_under_script_name_stays_inside_the_mount(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root, index_file=True)
    env = environ("/static/docs", SCRIPT_NAME="/mount", QUERY_STRING="x=1")
    response, _ = call(app, env)
    assert response.status == "302 Found"
    resolved = httpx.URL("http://h/mount/static/docs?x=1").join(response.headers["location"])
    assert resolved == httpx.URL("http://h/mount/static/docs/?x=1")


# -- wsgi.file_wrapper -----------------------------------------------------------


def test_file_wrapper_is_used_for_a_whole_file(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    wrapper = RecordingFileWrapper()
    response, body = call(app, environ("/static/big.bin", **{"wsgi.file_wrapper": wrapper}))
    assert [os.path.basename(name) for name, _ in wrapper.wrapped] == ["big.bin"]
    assert response.headers["content-length"] == str(BIG)
    assert body == static_tree.read("big.bin")


def test_file_wrapper_is_not_used_for_a_range(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    wrapper = RecordingFileWrapper()
    env = environ("/static/big.bin", HTTP_RANGE="bytes=5-9", **{"wsgi.file_wrapper": wrapper})
    response, body = call(app, env)
    assert response.status == "206 Partial Content"
    assert body == static_tree.read("big.bin")[5:10]
    assert wrapper.wrapped == []


def test_without_file_wrapper_a_large_file_is_read_in_chunks(static_tree: StaticTree) -> None:
    chunk_size = 64 * 1024
    app = StaticServeWSGI(None, root=static_tree.root, chunk_size=chunk_size)
    chunks = list(app(environ("/static/big.bin"), Response().start_response))
    assert all(len(c) <= chunk_size for c in chunks)
    assert b"".join(chunks) == static_tree.read("big.bin")


# -- files closed in every path --------------------------------------------------


def test_files_are_closed_on_every_path(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(inner_app, root=static_tree.root, chunk_size=64 * 1024)
    wrapper = {"wsgi.file_wrapper": RecordingFileWrapper()}
    etag = fetch(app, "/static/big.bin").headers["etag"]
    requests = [
        environ("/static/big.bin"),
        environ("/static/big.bin", **wrapper),
        environ("/static/big.bin", HTTP_RANGE="bytes=0-99"),
        environ("/static/big.bin", HTTP_RANGE="bytes=0-9,100-199,-5"),
        environ("/static/big.bin", method="HEAD"),
        environ("/static/big.bin", HTTP_IF_NONE_MATCH=etag),
        environ("/static/big.bin", HTTP_RANGE="bytes=999999999-"),
        environ("/static/big.bin", method="DELETE"),
        environ("/static/missing"),
        environ("/static/css/site.css"),
    ]
    for env in requests:  # warm up: lazily built index entries, thread pools
        call(app, env)
    before = open_fds()
    for _ in range(20):
        for env in requests:
            call(app, env)
        for env in (environ("/static/big.bin"), environ("/static/big.bin", **wrapper)):
            # The client went away: the server closes the iterable early...
            iterable = app(env, Response().start_response)
            next(iter(iterable))
            iterable.close()  # type: ignore[attr-defined]
            # ... or before reading anything.
            app(env, Response().start_response).close()  # type: ignore[attr-defined]
    assert open_fds() == before


# -- files that change on disk after indexing ----------------------------------------


def test_file_changed_on_disk_is_sent_with_its_new_length(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    assert len(fetch(app, "/static/big.bin").content) == BIG
    static_tree.write("big.bin", b"smaller now")
    response = fetch(app, "/static/big.bin")
    assert response.headers["content-length"] == "11"
    assert response.content == b"smaller now"


def test_file_deleted_on_disk_gives_404_when_standalone(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    assert fetch(app, "/static/big.bin").status_code == 200
    static_tree.path("big.bin").unlink()
    assert fetch(app, "/static/big.bin").status_code == 404


def test_file_deleted_on_disk_passes_through_when_wrapped(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(inner_app, root=static_tree.root)
    assert fetch(app, "/static/big.bin").status_code == 200
    static_tree.path("big.bin").unlink()
    assert fetch(app, "/static/big.bin").text == "app: /static/big.bin"


# -- options ---------------------------------------------------------------------------


def test_add_files_serves_a_second_root_under_its_prefix(
    static_tree: StaticTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    media = tmp_path_factory.mktemp("media")
    (media / "upload.txt").write_bytes(b"uploaded")
    app = StaticServeWSGI(inner_app, root=static_tree.root)
    app.add_files(media, prefix="/media/")
    assert fetch(app, "/media/upload.txt").content == b"uploaded"
    assert fetch(app, "/static/img/logo.png").content == static_tree.read("img/logo.png")


def test_index_file_serves_the_directory_index(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root, index_file=True)
    assert fetch(app, "/static/docs/").content == static_tree.read("docs/index.html")


def test_autorefresh_serves_a_file_created_after_start(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root, autorefresh=True)
    assert fetch(app, "/static/new.css").status_code == 404
    static_tree.write("new.css", b"body{}")
    assert fetch(app, "/static/new.css").content == b"body{}"


# -- misses are never cached (miss_cache_control) -------------------------------


def answering(status: str, headers: list[tuple[str, str]]) -> Any:
    """A wrapped WSGI app answering every request with ``status`` and ``headers``."""

    def app(env: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        start_response(status, list(headers))
        return [b"from the app"]

    return app


def test_standalone_404_under_the_prefix_is_no_store(static_tree: StaticTree) -> None:
    response = fetch(StaticServeWSGI(None, root=static_tree.root), "/static/missing.css")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


def test_standalone_404_carries_the_configured_miss_cache_control(
    static_tree: StaticTree,
) -> None:
    app = StaticServeWSGI(None, root=static_tree.root, miss_cache_control="public, max-age=10")
    assert fetch(app, "/static/missing.css").headers["cache-control"] == "public, max-age=10"


def test_miss_cache_control_none_sends_no_header_on_a_miss(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root, miss_cache_control=None)
    assert "cache-control" not in fetch(app, "/static/missing.css").headers


def test_405_on_a_static_file_is_no_store(static_tree: StaticTree) -> None:
    app = StaticServeWSGI(None, root=static_tree.root)
    response = fetch(app, "/static/css/site.css", "DELETE")
    assert response.status_code == 405
    assert response.headers["cache-control"] == "no-store"


def test_wrapped_app_404_under_the_prefix_gets_no_store(static_tree: StaticTree) -> None:
    inner = answering("404 Not Found", [("Content-Type", "text/html")])
    response = fetch(StaticServeWSGI(inner, root=static_tree.root), "/static/missing.css")
    assert response.status_code == 404
    assert response.text == "from the app"
    assert response.headers["cache-control"] == "no-store"


def test_wrapped_app_own_cache_control_on_a_miss_is_kept(static_tree: StaticTree) -> None:
    inner = answering("404 Not Found", [("cache-control", "public, max-age=5")])
    response = fetch(StaticServeWSGI(inner, root=static_tree.root), "/static/missing.css")
    assert response.headers.get_list("cache-control") == ["public, max-age=5"]


def test_wrapped_app_success_under_the_prefix_is_untouched(static_tree: StaticTree) -> None:
    inner = answering("200 OK", [])
    response = fetch(StaticServeWSGI(inner, root=static_tree.root), "/static/dynamic")
    assert "cache-control" not in response.headers


def test_wrapped_app_error_outside_the_prefix_is_untouched(static_tree: StaticTree) -> None:
    inner = answering("404 Not Found", [])
    response = fetch(StaticServeWSGI(inner, root=static_tree.root), "/missing-page")
    assert "cache-control" not in response.headers


def test_wrapped_app_miss_under_a_non_utf8_static_path_gets_no_store(
    static_tree: StaticTree,
) -> None:
    inner = answering("404 Not Found", [])
    response, _ = call(StaticServeWSGI(inner, root=static_tree.root), environ("/static/\xff.css"))
    assert response.status.startswith("404")
    assert response.headers["cache-control"] == "no-store"


def test_wrapped_app_error_under_a_root_prefix_is_the_apps_own(static_tree: StaticTree) -> None:
    inner = answering("404 Not Found", [])
    app = StaticServeWSGI(inner, root=static_tree.root, prefix="/")
    assert "cache-control" not in fetch(app, "/missing-page").headers


def test_wrapped_app_error_in_a_directory_of_a_root_prefix_gets_no_store(
    static_tree: StaticTree,
) -> None:
    inner = answering("404 Not Found", [])
    app = StaticServeWSGI(inner, root=static_tree.root, prefix="/")
    assert fetch(app, "/css/missing.css").headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("HTTP_RANGE", "bytes=0-0", "206"),
        ("HTTP_IF_MATCH", '"not-this-one"', "412"),
        ("HTTP_IF_UNMODIFIED_SINCE", "Thu, 01 Jan 1970 00:00:01 GMT", "412"),
        ("HTTP_IF_RANGE", '"not-this-one"', "200"),  # without a Range, If-Range is ignored
    ],
)
def test_range_and_preconditions_are_honoured_beside_the_fast_path(
    static_tree: StaticTree, key: str, value: str, status: str
) -> None:
    app = StaticServeWSGI(root=static_tree.root)
    call(app, environ("/static/css/site.css"))  # loaded: the fast path applies
    response, _ = call(app, environ("/static/css/site.css", **{key: value}))
    assert response.status.split()[0] == status


# PEP 3333 lets the server (and so any middleware) change the header list it
# is handed "in any way it desires": each answer's list is its own.
FRESH_HEADER_CASES = {
    "memory GET": ("/static/css/site.css", "GET", {"HTTP_ACCEPT_ENCODING": "br"}),
    "HEAD": ("/static/css/site.css", "HEAD", {}),
    "304": ("/static/css/site.css", "GET", "tag"),
    "file": ("/static/big.bin", "GET", {}),
    "404": ("/static/nope.css", "GET", {}),
}


@pytest.mark.parametrize("case", FRESH_HEADER_CASES)
def test_a_middleware_changing_the_header_list_leaves_the_next_answer_alone(
    static_tree: StaticTree, case: str
) -> None:
    path, method, extra = FRESH_HEADER_CASES[case]
    app = StaticServeWSGI(None, root=static_tree.root)
    if extra == "tag":
        extra = {"HTTP_IF_NONE_MATCH": call(app, environ(path))[0].headers["etag"]}
    clean = call(app, environ(path, method, **extra))[0].header_list

    def changing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        del headers[0]
        headers.append(("Content-Encoding", "gzip"))

    for _ in range(2):
        iterable = app(environ(path, method, **extra), changing)
        getattr(iterable, "close", lambda: None)()
    assert call(app, environ(path, method, **extra))[0].header_list == clean
