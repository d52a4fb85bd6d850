"""The ASGI adapter: through httpx's ASGITransport, and by hand-made
scope/receive/send where httpx cannot express the case (lifespan, websocket,
pathsend, the exact messages sent, a client that goes away)."""

from __future__ import annotations

import asyncio
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from staticserve import StaticServe
from tests.conftest import HASHED_JS, StaticTree

# Every test runs on the C fast path and on the pure-Python path.
pytestmark = pytest.mark.usefixtures("both_paths")

Message = dict[str, Any]


# -- helpers --------------------------------------------------------------------


def fetch(
    app: Any,
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    root_path: str = "",
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app, root_path=root_path)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.request(method, url, headers=headers)

    return asyncio.run(go())


def http_scope(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    headers = extra.pop("headers", [(b"accept-encoding", b"identity")])
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        **extra,
    }


async def never_disconnects() -> Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def first_request_then(later: Callable[[], Any]) -> Callable[[], Any]:
    """A receive(): the request body first, then whatever ``later`` awaits."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await later()

    return receive


def call(app: Any, scope: dict[str, Any], receive: Any = None) -> list[Message]:
    """Run the app on ``scope``; the messages it sent, in order."""
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    asyncio.run(app(scope, receive or first_request_then(never_disconnects), send))
    return messages


def body_messages(messages: list[Message]) -> list[Message]:
    return [m for m in messages if m["type"] == "http.response.body"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Recorder:
    """A wrapped app that records what reaches it and answers 200 'app'."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, Any], Any, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls.append((scope, receive, send))
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"app"})


# -- standalone and pass-through ----------------------------------------------------


def test_standalone_answers_404_to_a_static_miss(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    response = fetch(app, "/static/missing.css")
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_standalone_answers_404_outside_the_prefix(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    assert fetch(app, "/index.html").status_code == 404


def test_wrapped_app_receives_a_static_miss(static_tree: StaticTree) -> None:
    inner = Recorder()
    app = StaticServe(inner, root=static_tree.root)
    assert fetch(app, "/static/missing.css").text == "app"
    assert inner.calls[0][0]["path"] == "/static/missing.css"


def test_wrapped_app_receives_paths_outside_the_prefix(static_tree: StaticTree) -> None:
    inner = Recorder()
    app = StaticServe(inner, root=static_tree.root)
    assert fetch(app, "/api/things").text == "app"


def test_static_hit_does_not_reach_the_wrapped_app(static_tree: StaticTree) -> None:
    inner = Recorder()
    app = StaticServe(inner, root=static_tree.root)
    assert fetch(app, "/static/img/logo.png").content == static_tree.read("img/logo.png")
    assert inner.calls == []


def test_dotfile_and_symlink_out_of_root_are_misses(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    assert fetch(app, "/static/.secret").status_code == 404
    assert fetch(app, "/static/escape.txt").status_code == 404


def test_head_sends_the_headers_and_an_empty_body(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    messages = call(app, http_scope("/static/big.bin", method="HEAD"))
    start, body = messages
    assert (b"content-length", str(3 * 1024 * 1024).encode()) in start["headers"]
    assert body == {"type": "http.response.body", "body": b""}


# -- lifespan and websocket scopes ------------------------------------------------------


@pytest.mark.parametrize("scope_type", ["lifespan", "websocket"])
def test_non_http_scope_reaches_the_wrapped_app_untouched(
    static_tree: StaticTree, scope_type: str
) -> None:
    inner = Recorder()
    app = StaticServe(inner, root=static_tree.root)
    scope = {"type": scope_type, "asgi": {"version": "3.0"}, "path": "/static/css/site.css"}

    async def receive() -> Message:
        return {}

    async def send(message: Message) -> None:
        pass

    asyncio.run(app(scope, receive, send))
    assert inner.calls == [(scope, receive, send)]


def test_standalone_completes_lifespan_startup_and_shutdown(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> Message:
        return next(incoming)

    messages = call(app, {"type": "lifespan", "asgi": {"version": "3.0"}}, receive)
    assert [m["type"] for m in messages] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


def test_standalone_refuses_a_websocket(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    messages = call(app, {"type": "websocket", "path": "/static/x"}, receive)
    assert messages == [{"type": "websocket.close", "code": 1000}]


# -- root_path ---------------------------------------------------------------------------


def test_root_path_is_stripped_before_lookup(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    response = fetch(app, "/mount/static/css/site.css", root_path="/mount")
    assert response.status_code == 200
    assert response.content == static_tree.read("css/site.css")


def test_path_not_under_root_path_is_looked_up_as_is(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    messages = call(app, http_scope("/static/js/plain.js", root_path="/mount"))
    assert messages[0]["status"] == 200


def test_root_path_is_only_stripped_at_a_segment_boundary(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, prefix="/")
    # root_path "/st" must not turn "/static/..." into "atic/...".
    messages = call(app, http_scope("/img/logo.png", root_path="/im"))
    assert messages[0]["status"] == 200


# -- how bodies are sent --------------------------------------------------------------


def test_memory_file_is_sent_in_one_body_message(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    messages = call(app, http_scope("/static/css/site.css"))
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert messages[1]["body"] == static_tree.read("css/site.css")
    assert not messages[1].get("more_body", False)


# What a middleware outside may do to a response (Starlette's GZipMiddleware
# deletes Content-Length and appends Content-Encoding, CORSMiddleware appends
# and rewrites Vary): each answer's start message and header list are its own.
FRESH_HEADER_CASES = {
    "memory GET": ("/static/css/site.css", "GET", [(b"accept-encoding", b"br")], {}),
    "HEAD": ("/static/css/site.css", "HEAD", [], {}),
    "304": ("/static/css/site.css", "GET", "tag", {}),
    "streamed": ("/static/big.bin", "GET", [], {}),
    "pathsend": ("/static/big.bin", "GET", [], {"extensions": {"http.response.pathsend": {}}}),
    "404": ("/static/nope.css", "GET", [], {}),
}


@pytest.mark.parametrize("case", FRESH_HEADER_CASES)
def test_a_middleware_changing_a_response_leaves_the_next_one_alone(
    static_tree: StaticTree, case: str
) -> None:
    path, method, headers, extra = FRESH_HEADER_CASES[case]
    app = StaticServe(None, root=static_tree.root)
    if headers == "tag":
        tag = dict(call(app, http_scope(path))[0]["headers"])[b"etag"]
        headers = [(b"if-none-match", tag)]

    def start() -> Message:
        return call(app, http_scope(path, method, headers=headers, **extra))[0]

    first = start()
    status, pristine = first["status"], list(first["headers"])
    assert isinstance(first["headers"], list)
    del first["headers"][0]
    first["headers"].append((b"content-encoding", b"gzip"))
    first["status"] = 500
    again = start()
    assert (again["status"], again["headers"]) == (status, pristine)


def test_large_file_is_streamed_in_chunks_of_at_most_chunk_size(static_tree: StaticTree) -> None:
    chunk_size = 64 * 1024
    app = StaticServe(None, root=static_tree.root, chunk_size=chunk_size)
    bodies = body_messages(call(app, http_scope("/static/big.bin")))
    assert len(bodies) >= len(static_tree.read("big.bin")) // chunk_size
    assert all(len(m["body"]) <= chunk_size for m in bodies)
    assert all(m["more_body"] for m in bodies[:-1]) and not bodies[-1]["more_body"]
    assert b"".join(m["body"] for m in bodies) == static_tree.read("big.bin")


def test_pathsend_hands_a_whole_file_to_the_server_when_advertised(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(None, root=static_tree.root)
    scope = http_scope("/static/big.bin", extensions={"http.response.pathsend": {}})
    start, pathsend = call(app, scope)
    assert start["status"] == 200
    assert pathsend["type"] == "http.response.pathsend"
    assert os.path.samefile(pathsend["path"], static_tree.path("big.bin"))
    assert os.path.isabs(pathsend["path"])


def test_pathsend_sends_the_negotiated_variant_file(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, memory_file_max=0)
    scope = http_scope(
        "/static/css/site.css",
        extensions={"http.response.pathsend": {}},
        headers=[(b"accept-encoding", b"gzip")],
    )
    start, pathsend = call(app, scope)
    assert (b"content-encoding", b"gzip") in start["headers"]
    assert pathsend["path"].endswith("site.css.gz")


def test_no_pathsend_without_the_extension(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    messages = call(app, http_scope("/static/big.bin"))
    assert all(m["type"] != "http.response.pathsend" for m in messages)
    assert b"".join(m["body"] for m in body_messages(messages)) == static_tree.read("big.bin")


def test_range_is_streamed_even_when_pathsend_is_advertised(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    scope = http_scope(
        "/static/big.bin",
        extensions={"http.response.pathsend": {}},
        headers=[(b"range", b"bytes=10-19")],
    )
    start, *rest = call(app, scope)
    assert start["status"] == 206
    assert b"".join(m["body"] for m in rest) == static_tree.read("big.bin")[10:20]


def test_client_disconnect_mid_body_stops_the_stream_and_closes_the_file(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(None, root=static_tree.root, chunk_size=64 * 1024)
    gone = asyncio.Event()
    sent: list[Message] = []

    async def disconnect_when_told() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if len(body_messages(sent)) == 2:
            gone.set()
        await asyncio.sleep(0)

    before = open_fds()
    asyncio.run(app(http_scope("/static/big.bin"), first_request_then(disconnect_when_told), send))
    assert 2 <= len(body_messages(sent)) < len(static_tree.read("big.bin")) // (64 * 1024)
    assert open_fds() == before


def test_send_failing_mid_body_is_not_raised_and_closes_the_file(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(None, root=static_tree.root, chunk_size=64 * 1024)
    bodies = 0

    async def send(message: Message) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 3:
                raise ConnectionResetError("client went away")

    before = open_fds()
    asyncio.run(app(http_scope("/static/big.bin"), first_request_then(never_disconnects), send))
    assert bodies == 3
    assert open_fds() == before


# -- files that change on disk after indexing ---------------------------------------------


def test_file_changed_on_disk_is_sent_with_its_new_length(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    assert len(fetch(app, "/static/big.bin").content) == 3 * 1024 * 1024
    static_tree.write("big.bin", b"smaller now")
    response = fetch(app, "/static/big.bin")
    assert response.headers["content-length"] == "11"
    assert response.content == b"smaller now"


def test_pathsend_of_a_changed_file_announces_its_new_length(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    scope = http_scope("/static/big.bin", extensions={"http.response.pathsend": {}})
    call(app, scope)
    static_tree.write("big.bin", b"x" * 300_000)
    start, pathsend = call(app, scope)
    assert (b"content-length", b"300000") in start["headers"]
    assert pathsend["type"] == "http.response.pathsend"


def test_file_deleted_on_disk_gives_404_when_standalone(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    assert fetch(app, "/static/big.bin").status_code == 200
    static_tree.path("big.bin").unlink()
    assert fetch(app, "/static/big.bin").status_code == 404


def test_file_deleted_on_disk_passes_through_when_wrapped(static_tree: StaticTree) -> None:
    app = StaticServe(Recorder(), root=static_tree.root)
    assert fetch(app, "/static/big.bin").status_code == 200
    static_tree.path("big.bin").unlink()
    assert fetch(app, "/static/big.bin").text == "app"


# -- options -------------------------------------------------------------------------------


def test_index_file_serves_the_directory_index_at_the_slash_url(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, index_file=True)
    response = fetch(app, "/static/docs/")
    assert response.status_code == 200
    assert response.content == static_tree.read("docs/index.html")
    assert response.headers["content-type"] == "text/html; charset=utf-8"


def test_index_file_redirects_the_bare_directory_keeping_the_query(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(None, root=static_tree.root, index_file=True)
    response = fetch(app, "/static/docs?a=1&b=%20")
    assert response.status_code == 302
    location = httpx.URL("http://testserver/static/docs?a=1&b=%20").join(
        response.headers["location"]
    )
    assert location == httpx.URL("http://testserver/static/docs/?a=1&b=%20")


def test_without_index_file_a_directory_is_a_miss(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root)
    assert fetch(app, "/static/docs/").status_code == 404
    assert fetch(app, "/static/docs").status_code == 404


def test_cors_star_is_sent_by_default(static_tree: StaticTree) -> None:
    # Fonts loaded from a CDN host name need it; static files are public anyway.
    app = StaticServe(None, root=static_tree.root)
    response = fetch(app, "/static/css/site.css")
    assert response.headers["access-control-allow-origin"] == "*"


def test_allow_all_origins_false_sends_no_cors_header(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, allow_all_origins=False)
    assert "access-control-allow-origin" not in fetch(app, "/static/css/site.css").headers


def test_add_headers_callback_adds_headers_per_file(static_tree: StaticTree) -> None:
    def add_headers(headers: list[tuple[str, str]], path: str, url: str) -> None:
        if url.endswith(".png"):
            headers.append(("X-Image", os.path.basename(path)))

    app = StaticServe(None, root=static_tree.root, add_headers=add_headers)
    assert fetch(app, "/static/img/logo.png").headers["x-image"] == "logo.png"
    assert "x-image" not in fetch(app, "/static/css/site.css").headers


def test_mimetypes_override_sets_the_content_type(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, mimetypes={".bin": "application/x-test"})
    response = fetch(app, "/static/big.bin", method="HEAD")
    assert response.headers["content-type"] == "application/x-test"


def test_max_age_sets_the_cache_lifetime_of_plain_names(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, max_age=3600)
    assert fetch(app, "/static/js/plain.js").headers["cache-control"] == "public, max-age=3600"
    immutable = fetch(app, f"/static/{HASHED_JS}").headers["cache-control"]
    assert immutable == "public, max-age=31536000, immutable"


def test_immutable_file_test_as_a_regex(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, immutable_file_test=r"^/static/img/")
    assert "immutable" in fetch(app, "/static/img/logo.png").headers["cache-control"]
    assert "immutable" not in fetch(app, f"/static/{HASHED_JS}").headers["cache-control"]


def test_immutable_file_test_as_a_callable(static_tree: StaticTree) -> None:
    seen: list[tuple[str, str]] = []

    def immutable(path: str, url: str) -> bool:
        seen.append((path, url))
        return url == "/static/js/plain.js"  # the full URL path, as in WhiteNoise

    app = StaticServe(None, root=static_tree.root, immutable_file_test=immutable)
    assert "immutable" in fetch(app, "/static/js/plain.js").headers["cache-control"]
    assert "immutable" not in fetch(app, "/static/img/logo.png").headers["cache-control"]
    assert os.path.samefile(seen[0][0], static_tree.path("js/plain.js"))


def test_add_files_serves_a_second_root_under_its_prefix(
    static_tree: StaticTree, tmp_path_factory: pytest.TempPathFactory
) -> None:
    media = tmp_path_factory.mktemp("media")
    (media / "upload.txt").write_bytes(b"uploaded")
    app = StaticServe(None, root=static_tree.root)
    app.add_files(media, prefix="/media/")
    assert fetch(app, "/media/upload.txt").content == b"uploaded"
    assert fetch(app, "/static/img/logo.png").status_code == 200
    assert fetch(app, "/static/upload.txt").status_code == 404


def test_autorefresh_serves_a_file_created_after_start(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, autorefresh=True)
    assert fetch(app, "/static/new.js").status_code == 404
    static_tree.write("new.js", b"let fresh = 1;\n")
    assert fetch(app, "/static/new.js").content == b"let fresh = 1;\n"


def test_autorefresh_serves_an_edited_file_without_restart(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, autorefresh=True)
    assert fetch(app, "/static/js/plain.js").content == static_tree.read("js/plain.js")
    static_tree.write("js/plain.js", b"console.log('edited, and longer');\n")
    response = fetch(app, "/static/js/plain.js")
    assert response.content == b"console.log('edited, and longer');\n"
    assert response.headers["content-length"] == str(len(response.content))


def test_autorefresh_sends_no_cache_by_default(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, autorefresh=True)
    assert fetch(app, "/static/js/plain.js").headers["cache-control"] == "no-cache"


def test_unknown_option_is_refused_naming_it(static_tree: StaticTree) -> None:
    with pytest.raises(ValueError, match=re.escape("max_agee")):
        StaticServe(None, root=static_tree.root, max_agee=1)


# -- files that change on disk after they were served ----------------------------------
# Every answer rests on a stat at most recheck_interval old (default 1 s); with 0,
# every request re-checks. Bodies streamed from disk are always checked by fstat.


def test_head_after_the_file_changed_announces_its_new_length(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, recheck_interval=0)
    assert fetch(app, "/static/big.bin").status_code == 200
    static_tree.write("big.bin", b"smaller now")
    assert fetch(app, "/static/big.bin", method="HEAD").headers["content-length"] == "11"


def test_old_etag_after_the_file_changed_is_not_answered_304(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, recheck_interval=0)
    etag = fetch(app, "/static/big.bin").headers["etag"]
    static_tree.write("big.bin", b"smaller now")
    assert fetch(app, "/static/big.bin", headers={"if-none-match": etag}).status_code == 200


def test_small_file_changed_after_it_was_served_is_sent_anew(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, recheck_interval=0)
    assert fetch(app, "/static/js/plain.js").status_code == 200
    static_tree.write("js/plain.js", b"console.log('changed, and longer');\n")
    assert fetch(app, "/static/js/plain.js").content == b"console.log('changed, and longer');\n"


def test_small_file_deleted_after_it_was_served_gives_404(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, recheck_interval=0)
    assert fetch(app, "/static/js/plain.js").status_code == 200
    static_tree.path("js/plain.js").unlink()
    assert fetch(app, "/static/js/plain.js").status_code == 404


def test_within_the_recheck_interval_the_old_content_is_served_whole(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(None, root=static_tree.root, recheck_interval=60)
    old = fetch(app, "/static/js/plain.js").content
    static_tree.write("js/plain.js", b"console.log('changed, and longer');\n")
    response = fetch(app, "/static/js/plain.js")
    assert response.content == old
    assert response.headers["content-length"] == str(len(old))


def test_after_the_recheck_interval_a_change_is_noticed(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, recheck_interval=0.2)
    assert fetch(app, "/static/js/plain.js").status_code == 200
    new = b"console.log('changed, and longer');\n"
    static_tree.write("js/plain.js", new)
    # Poll until the interval has passed and the change is seen; every answer
    # meanwhile is one whole version. The deadline (50x the interval) is a hang guard.
    deadline = time.monotonic() + 10
    while (response := fetch(app, "/static/js/plain.js")).content != new:
        assert response.headers["content-length"] == str(len(response.content))
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert response.headers["content-length"] == str(len(new))


# -- misses are never cached (miss_cache_control) -------------------------------


def answering(status: int, headers: list[tuple[bytes, bytes]]) -> Any:
    """A wrapped ASGI app answering every request with ``status`` and ``headers``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"from the app"})

    return app


def test_standalone_404_under_the_prefix_is_no_store(static_tree: StaticTree) -> None:
    response = fetch(StaticServe(None, root=static_tree.root), "/static/missing.css")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


def test_standalone_404_carries_the_configured_miss_cache_control(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(None, root=static_tree.root, miss_cache_control="public, max-age=10")
    assert fetch(app, "/static/missing.css").headers["cache-control"] == "public, max-age=10"


def test_miss_cache_control_none_sends_no_header_on_a_miss(static_tree: StaticTree) -> None:
    app = StaticServe(None, root=static_tree.root, miss_cache_control=None)
    response = fetch(app, "/static/missing.css")
    assert response.status_code == 404
    assert "cache-control" not in response.headers


def test_405_on_a_static_file_is_no_store(static_tree: StaticTree) -> None:
    response = fetch(StaticServe(None, root=static_tree.root), "/static/css/site.css", "POST")
    assert response.status_code == 405
    assert response.headers["cache-control"] == "no-store"


def test_wrapped_app_404_under_the_prefix_gets_no_store(static_tree: StaticTree) -> None:
    app = StaticServe(answering(404, [(b"content-type", b"text/html")]), root=static_tree.root)
    response = fetch(app, "/static/missing.css")
    assert response.status_code == 404
    assert response.text == "from the app"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "text/html"


def test_wrapped_app_5xx_under_the_prefix_gets_no_store(static_tree: StaticTree) -> None:
    app = StaticServe(answering(502, []), root=static_tree.root)
    assert fetch(app, "/static/missing.css").headers["cache-control"] == "no-store"


def test_wrapped_app_own_cache_control_on_a_miss_is_kept(static_tree: StaticTree) -> None:
    inner = answering(404, [(b"Cache-Control", b"public, max-age=5")])
    response = fetch(StaticServe(inner, root=static_tree.root), "/static/missing.css")
    assert response.headers.get_list("cache-control") == ["public, max-age=5"]


def test_wrapped_app_success_under_the_prefix_is_untouched(static_tree: StaticTree) -> None:
    response = fetch(StaticServe(answering(200, []), root=static_tree.root), "/static/dynamic")
    assert response.status_code == 200
    assert "cache-control" not in response.headers


def test_wrapped_app_error_outside_the_prefix_is_untouched(static_tree: StaticTree) -> None:
    response = fetch(StaticServe(answering(404, []), root=static_tree.root), "/missing-page")
    assert response.status_code == 404
    assert "cache-control" not in response.headers


def test_wrapped_app_error_under_a_root_prefix_is_the_apps_own(static_tree: StaticTree) -> None:
    # "/" is shared with the application's pages: their 404s stay as the app sends them.
    app = StaticServe(answering(404, []), root=static_tree.root, prefix="/")
    response = fetch(app, "/missing-page")
    assert response.status_code == 404
    assert "cache-control" not in response.headers


def test_wrapped_app_error_in_a_directory_of_a_root_prefix_gets_no_store(
    static_tree: StaticTree,
) -> None:
    # A front end's build at "/": a miss in one of its directories (Vite's
    # /assets/) is a file of another release, not one of the app's pages.
    app = StaticServe(answering(404, []), root=static_tree.root, prefix="/")
    response = fetch(app, "/css/missing.css")
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"


def test_wrapped_app_miss_with_miss_cache_control_none_is_untouched(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(answering(404, []), root=static_tree.root, miss_cache_control=None)
    assert "cache-control" not in fetch(app, "/static/missing.css").headers


def test_repeated_accept_encoding_headers_are_negotiated_together(
    static_tree: StaticTree,
) -> None:
    app = StaticServe(root=static_tree.root)
    headers = [(b"accept-encoding", b"br"), (b"accept-encoding", b"gzip")]
    start = call(app, http_scope("/static/css/site.css", headers=headers))[0]
    assert (b"content-encoding", b"br") in start["headers"]


def test_repeated_unrelated_headers_still_get_the_file(static_tree: StaticTree) -> None:
    app = StaticServe(root=static_tree.root)
    headers = [(b"cookie", b"a=1"), (b"cookie", b"b=2"), (b"accept-encoding", b"gzip")]
    messages = call(app, http_scope("/static/css/site.css", headers=headers))
    assert messages[0]["status"] == 200
    assert body_messages(messages)[0]["body"] == static_tree.read("css/site.css.gz")


def test_browser_revalidation_with_both_validators_gets_304(static_tree: StaticTree) -> None:
    app = StaticServe(root=static_tree.root)
    first = dict(call(app, http_scope("/static/css/site.css"))[0]["headers"])
    headers = [
        (b"accept-encoding", b"identity"),
        (b"if-none-match", first[b"etag"]),
        (b"if-modified-since", b"Thu, 01 Jan 1970 00:00:01 GMT"),  # ignored beside a tag
    ]
    assert call(app, http_scope("/static/css/site.css", headers=headers))[0]["status"] == 304


def test_if_modified_since_alone_is_still_evaluated(static_tree: StaticTree) -> None:
    app = StaticServe(root=static_tree.root)
    first = dict(call(app, http_scope("/static/css/site.css"))[0]["headers"])
    headers = [(b"if-modified-since", first[b"last-modified"])]
    assert call(app, http_scope("/static/css/site.css", headers=headers))[0]["status"] == 304


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [
        (b"range", b"bytes=0-0", 206),
        (b"if-match", b'"not-this-one"', 412),
        (b"if-unmodified-since", b"Thu, 01 Jan 1970 00:00:01 GMT", 412),
        (b"if-range", b'"not-this-one"', 200),  # without a Range, If-Range is ignored
    ],
)
def test_range_and_preconditions_are_honoured_beside_the_fast_path(
    static_tree: StaticTree, header: bytes, value: bytes, status: int
) -> None:
    app = StaticServe(root=static_tree.root)
    call(app, http_scope("/static/css/site.css"))  # loaded: the fast path applies
    headers = [(b"accept-encoding", b"identity"), (header, value)]
    assert call(app, http_scope("/static/css/site.css", headers=headers))[0]["status"] == status


# -- disk work off the event loop -------------------------------------------------


def loads_by_thread(tmp_path: Path, **options: Any) -> tuple[StaticServe, list[int]]:
    """A standalone app over ``tmp_path`` noting the thread of every file load."""
    threads: list[int] = []

    def note_thread(headers: Any, path: str, url: str) -> None:
        threads.append(threading.get_ident())  # called while a Resource is built

    return StaticServe(root=tmp_path, add_headers=note_thread, **options), threads


def test_a_files_first_load_runs_off_the_event_loop_thread(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_bytes(b"first")
    app, threads = loads_by_thread(tmp_path)
    messages = call(app, http_scope("/static/app.js"))
    assert messages[0]["status"] == 200 and body_messages(messages)[0]["body"] == b"first"
    assert len(threads) == 1 and threads[0] != threading.get_ident()


def test_a_change_found_by_the_recheck_is_reloaded_off_the_event_loop_thread(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.js"
    path.write_bytes(b"first")
    app, threads = loads_by_thread(tmp_path, recheck_interval=0)
    call(app, http_scope("/static/app.js"))
    path.write_bytes(b"second!")
    messages = call(app, http_scope("/static/app.js"))
    assert body_messages(messages)[0]["body"] == b"second!"
    assert len(threads) == 2 and threading.get_ident() not in threads


def test_an_unchanged_file_is_not_reloaded_by_its_recheck(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_bytes(b"first")
    app, threads = loads_by_thread(tmp_path, recheck_interval=0)
    for _ in range(3):
        call(app, http_scope("/static/app.js"))
    assert len(threads) == 1


# -- mounted in Starlette / FastAPI ---------------------------------------------------


def mounted(static_tree: StaticTree, **options: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    return Starlette(routes=[Mount("/static", StaticServe(None, root=static_tree.root, **options))])


def test_mounted_with_prefix_slash_serves_the_mount_point(static_tree: StaticTree) -> None:
    response = fetch(mounted(static_tree, prefix="/"), "/static/css/site.css")
    assert response.status_code == 200
    assert response.content == static_tree.read("css/site.css")


def test_mounted_over_its_own_prefix_logs_the_fix_once(
    static_tree: StaticTree, caplog: pytest.LogCaptureFixture
) -> None:
    app = mounted(static_tree)
    with caplog.at_level("WARNING", logger="staticserve"):
        assert fetch(app, "/static/css/site.css").status_code == 404
        assert fetch(app, "/static/js/plain.js").status_code == 404
    warnings = [r.getMessage() for r in caplog.records if r.name == "staticserve"]
    assert len(warnings) == 1
    assert "mounted at /static" in warnings[0] and "prefix='/'" in warnings[0]


def test_a_real_miss_under_a_mount_logs_nothing(
    static_tree: StaticTree, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="staticserve"):
        assert fetch(mounted(static_tree, prefix="/"), "/static/nope.css").status_code == 404
    assert not [r for r in caplog.records if r.name == "staticserve"]
