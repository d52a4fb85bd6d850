"""staticserve behind real servers, checked over real sockets on 127.0.0.1.

Each server kind is started once for this module (module-scoped fixture,
parametrized), with its own copy of the static tree; the wrapped app answers
``app: <METHOD> <path>`` so a pass-through is visible.
"""

from __future__ import annotations

import email.utils
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets.sync.client

from tests.conftest import (
    HASHED_JS,
    NON_ASCII_NAME,
    StaticTree,
    make_static_tree,
    pseudo_random_bytes,
    sha256,
)
from tests.support.servers import Server, running_server

BIG_SIZE = 20 * 1024 * 1024  # streamed, never held in memory (memory_file_max is 256 KiB)
DISK_SIZE = 512 * 1024  # above memory_file_max: always read from disk

ASGI_SERVERS = ["uvicorn", "granian"]
WSGI_SERVERS = ["gunicorn", "granian-wsgi"]
TARGETS = {
    "uvicorn": "tests.integration.apps:asgi_app",
    "granian": "tests.integration.apps:asgi_app",
    "gunicorn": "tests.integration.apps:wsgi_app",
    "granian-wsgi": "tests.integration.apps:wsgi_app",
}

pytestmark = pytest.mark.timeout(60)


class Running:
    def __init__(self, kind: str, server: Server, tree: StaticTree) -> None:
        self.kind = kind
        self.server = server
        self.tree = tree
        self.client = httpx.Client(base_url=server.url, timeout=15)

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.client.get(url, **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=[*ASGI_SERVERS, *WSGI_SERVERS])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    kind: str = request.param
    tree = make_static_tree(tmp_path_factory.mktemp(kind), big_size=BIG_SIZE)
    tree.write("mutable/grows.bin", pseudo_random_bytes(DISK_SIZE, seed=2))
    tree.write("mutable/doomed.bin", pseudo_random_bytes(DISK_SIZE, seed=3))
    tree.write("mutable/headed.bin", pseudo_random_bytes(DISK_SIZE, seed=5))
    # recheck_interval=0: every request re-checks the disk, so on-disk changes
    # below are visible at once (the default allows answers up to 1 s stale).
    options = json.dumps({"recheck_interval": 0})
    env = {"STATICSERVE_TEST_ROOT": str(tree.root), "STATICSERVE_TEST_OPTIONS": options}
    with running_server(kind, TARGETS[kind], env=env) as server:
        running = Running(kind, server, tree)
        try:
            yield running
        finally:
            running.client.close()


def identity(**headers: str) -> dict[str, str]:
    return {"accept-encoding": "identity", **headers}


def assert_clean_log(server: Server) -> None:
    log = server.log()
    for marker in ("Traceback", "ERROR", "Exception"):
        assert marker not in log, log


def parse_multipart(response: httpx.Response) -> list[tuple[dict[str, str], bytes]]:
    """A multipart/byteranges body → [(part headers, part body)], strictly."""
    content_type = response.headers["content-type"]
    assert content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    body = response.content
    assert body.endswith(b"--" + boundary + b"--\r\n")
    chunks = body[: -len(b"--" + boundary + b"--\r\n")].split(b"--" + boundary + b"\r\n")
    assert chunks[0] == b""
    parts = []
    for chunk in chunks[1:]:
        head, _, data = chunk.partition(b"\r\n\r\n")
        assert data.endswith(b"\r\n")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parts.append((headers, data[:-2]))
    return parts


# -- body and headers ---------------------------------------------------------


def test_body_bytes_equal_the_file(served: Running) -> None:
    response = served.get("/static/css/site.css", headers=identity())
    assert response.status_code == 200
    assert response.content == served.tree.read("css/site.css")


def test_binary_image_bytes_equal_the_file(served: Running) -> None:
    response = served.get("/static/img/logo.png")
    assert response.content == served.tree.read("img/logo.png")


def test_content_type_of_text_carries_utf8_charset(served: Running) -> None:
    response = served.get("/static/css/site.css")
    assert response.headers["content-type"] == "text/css; charset=utf-8"


def test_content_type_of_image_has_no_charset(served: Running) -> None:
    assert served.get("/static/img/logo.png").headers["content-type"] == "image/png"


def test_content_length_is_the_file_size(served: Running) -> None:
    response = served.get("/static/css/site.css", headers=identity())
    assert int(response.headers["content-length"]) == len(served.tree.read("css/site.css"))


def test_etag_is_a_strong_entity_tag(served: Running) -> None:
    etag = served.get("/static/css/site.css", headers=identity()).headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2


def test_last_modified_is_the_file_mtime(served: Running) -> None:
    response = served.get("/static/css/site.css", headers=identity())
    mtime = int(served.tree.path("css/site.css").stat().st_mtime)
    assert email.utils.parsedate_to_datetime(response.headers["last-modified"]).timestamp() == mtime


def test_hashed_name_is_cached_as_immutable(served: Running) -> None:
    response = served.get(f"/static/{HASHED_JS}")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_plain_name_is_cached_for_sixty_seconds(served: Running) -> None:
    assert served.get("/static/js/plain.js").headers["cache-control"] == "public, max-age=60"


def test_vary_accept_encoding_when_compressed_variants_exist(served: Running) -> None:
    assert served.get("/static/css/site.css").headers["vary"] == "Accept-Encoding"


def test_no_vary_without_compressed_variants(served: Running) -> None:
    assert "vary" not in served.get("/static/img/logo.png").headers


def test_accept_ranges_is_bytes(served: Running) -> None:
    assert served.get("/static/img/logo.png").headers["accept-ranges"] == "bytes"


# -- conditionals and ranges ----------------------------------------------------


def test_if_none_match_gives_304_without_body(served: Running) -> None:
    etag = served.get("/static/css/site.css", headers=identity()).headers["etag"]
    response = served.get("/static/css/site.css", headers=identity(**{"if-none-match": etag}))
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "public, max-age=60"


def test_single_range_gives_206_with_the_slice(served: Running) -> None:
    response = served.get("/static/big.bin", headers=identity(range="bytes=100-199"))
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-199/{BIG_SIZE}"
    assert response.headers["content-length"] == "100"
    assert response.content == served.tree.read("big.bin")[100:200]


def test_multiple_ranges_give_multipart_206(served: Running) -> None:
    data = served.tree.read("css/site.css")
    response = served.get("/static/css/site.css", headers=identity(range="bytes=0-9,-20"))
    assert response.status_code == 206
    assert int(response.headers["content-length"]) == len(response.content)
    parts = parse_multipart(response)
    size = len(data)
    assert [p[0]["content-range"] for p in parts] == [
        f"bytes 0-9/{size}",
        f"bytes {size - 20}-{size - 1}/{size}",
    ]
    assert all(p[0]["content-type"] == "text/css; charset=utf-8" for p in parts)
    assert [p[1] for p in parts] == [data[:10], data[-20:]]


def test_unsatisfiable_range_gives_416_with_the_size(served: Running) -> None:
    size = len(served.tree.read("img/logo.png"))
    response = served.get("/static/img/logo.png", headers={"range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_post_gives_405_allowing_get_and_head(served: Running) -> None:
    response = served.client.post("/static/css/site.css", content=b"x")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_head_has_the_headers_of_get_and_no_body(served: Running) -> None:
    get = served.get("/static/big.bin", headers=identity())
    head = served.client.head("/static/big.bin", headers=identity())
    assert head.status_code == 200
    assert head.content == b""
    skip = {"date", "server", "connection", "keep-alive"}
    assert {k: v for k, v in head.headers.items() if k not in skip} == {
        k: v for k, v in get.headers.items() if k not in skip
    }


# -- content negotiation --------------------------------------------------------


@pytest.mark.parametrize("coding", ["br", "gzip", "zstd", "identity"])
def test_each_encoding_decodes_to_the_original(served: Running, coding: str) -> None:
    response = served.get("/static/css/site.css", headers={"accept-encoding": coding})
    assert response.headers.get("content-encoding", "identity") == coding
    assert response.content == served.tree.read("css/site.css")
    suffix = {"br": ".br", "gzip": ".gz", "zstd": ".zst", "identity": ""}[coding]
    assert int(response.headers["content-length"]) == len(served.tree.read("css/site.css" + suffix))


# -- pass-through -----------------------------------------------------------------


def test_non_static_path_passes_through_to_the_app(served: Running) -> None:
    assert served.get("/hello").text == "app: GET /hello"


def test_static_miss_passes_through_to_the_app(served: Running) -> None:
    assert served.get("/static/nope.css").text == "app: GET /static/nope.css"


def test_dotfile_and_symlink_out_of_root_pass_through(served: Running) -> None:
    assert served.get("/static/.secret").text.startswith("app: ")
    assert served.get("/static/escape.txt").text.startswith("app: ")


def test_non_ascii_file_name_is_served(served: Running) -> None:
    response = served.get("/static/" + NON_ASCII_NAME)
    assert response.status_code == 200
    assert response.content == served.tree.read(NON_ASCII_NAME)


@pytest.mark.parametrize("served", ASGI_SERVERS, indirect=True)
def test_websocket_passes_through_to_the_app(served: Running) -> None:
    url = served.server.url.replace("http://", "ws://") + "/ws"
    with websockets.sync.client.connect(url, open_timeout=10) as ws:
        ws.send("hi")
        assert ws.recv(timeout=10) == "echo: hi"


@pytest.mark.parametrize("served", ASGI_SERVERS, indirect=True)
def test_lifespan_startup_hook_of_the_app_runs(served: Running) -> None:
    assert served.get("/app/lifespan").text == "started"


# -- large files and failing clients ----------------------------------------------


def test_large_file_is_streamed_intact(served: Running) -> None:
    response = served.get("/static/big.bin", headers=identity())
    assert response.headers["content-length"] == str(BIG_SIZE)
    assert sha256(response.content) == sha256(served.tree.read("big.bin"))


def test_client_disconnecting_mid_body_leaves_server_serving_quietly(served: Running) -> None:
    port = int(served.server.url.rsplit(":", 1)[1])
    held_before = served.server.open_connections()
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(
                b"GET /static/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Accept-Encoding: identity\r\n\r\n"
            )
            received = 0
            while received < 256 * 1024:
                chunk = sock.recv(65536)
                assert chunk
                received += len(chunk)
            # Reset rather than close politely: the server sees a hard error.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
    # Wait until the server has dealt with the resets (closed its end of each),
    # not for a fixed time; the deadline is a hang guard.
    deadline = time.monotonic() + 30
    while served.server.open_connections() > held_before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert served.server.open_connections() <= held_before
    response = served.get("/static/big.bin", headers=identity())
    assert sha256(response.content) == sha256(served.tree.read("big.bin"))
    assert served.server.proc.poll() is None
    assert_clean_log(served.server)


# -- files that change on disk after indexing ---------------------------------------


def test_file_changed_on_disk_is_served_with_new_content_and_length(served: Running) -> None:
    before = served.get("/static/mutable/grows.bin", headers=identity())
    assert len(before.content) == DISK_SIZE
    new = pseudo_random_bytes(DISK_SIZE + 1234, seed=4)
    served.tree.write("mutable/grows.bin", new)
    after = served.get("/static/mutable/grows.bin", headers=identity())
    assert after.status_code == 200
    assert after.headers["content-length"] == str(len(new))
    assert after.content == new
    assert after.headers["etag"] != before.headers["etag"]


def test_head_and_304_after_the_file_changed_describe_the_new_file(served: Running) -> None:
    etag = served.get("/static/mutable/headed.bin", headers=identity()).headers["etag"]
    served.tree.write("mutable/headed.bin", b"tiny now")
    head = served.client.head("/static/mutable/headed.bin", headers=identity())
    assert head.headers["content-length"] == "8"
    revalidated = served.get(
        "/static/mutable/headed.bin", headers=identity(**{"if-none-match": etag})
    )
    assert revalidated.status_code == 200
    assert revalidated.content == b"tiny now"


def test_file_deleted_on_disk_passes_through_to_the_app(served: Running) -> None:
    assert served.get("/static/mutable/doomed.bin").status_code == 200
    served.tree.path("mutable/doomed.bin").unlink()
    assert served.get("/static/mutable/doomed.bin").text == "app: GET /static/mutable/doomed.bin"
    assert_clean_log(served.server)


def open_files_under(root: Path, pgid: int) -> list[str]:
    """Files under ``root`` held open by any process of the server's group."""
    held = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                group = int(f.read().rsplit(")", 1)[1].split()[2])
            if group != pgid:
                continue
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith(str(root)):
                    held.append(target)
        except OSError:
            continue  # a process or descriptor that went away meanwhile
    return held


def test_server_holds_no_file_open_after_responses(served: Running) -> None:
    port = int(served.server.url.rsplit(":", 1)[1])
    for _ in range(5):
        served.get("/static/big.bin", headers=identity())
        served.get("/static/big.bin", headers=identity(range="bytes=0-9"))
        served.get("/static/big.bin", headers=identity(range="bytes=0-9,100-199"))
        served.client.head("/static/big.bin")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /static/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(65536)
    deadline = time.monotonic() + 30  # a hang guard: the loop ends once nothing is open
    while (
        open_files_under(served.tree.root, served.server.proc.pid) and time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert open_files_under(served.tree.root, served.server.proc.pid) == []


# -- mounted under a path prefix --------------------------------------------------------

MOUNTS = {
    # uvicorn puts --root-path in front of the request path (the proxy stripped it).
    "uvicorn": (["--root-path", "/mount"], {}, "/static/img/logo.png"),
    "granian": (["--url-path-prefix", "/mount"], {}, "/mount/static/img/logo.png"),
    # gunicorn moves SCRIPT_NAME from the request path into the environ.
    "gunicorn": ([], {"SCRIPT_NAME": "/mount"}, "/mount/static/img/logo.png"),
}


@pytest.mark.parametrize("kind", list(MOUNTS))
def test_mounted_app_serves_and_redirects_inside_the_mount(
    kind: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    extra_args, extra_env, logo_url = MOUNTS[kind]
    tree = make_static_tree(tmp_path_factory.mktemp(f"mount-{kind}"), big_size=1024)
    env = {
        "STATICSERVE_TEST_ROOT": str(tree.root),
        "STATICSERVE_TEST_OPTIONS": json.dumps({"index_file": True}),
        **extra_env,
    }
    with running_server(kind, TARGETS[kind], env=env, extra_args=extra_args) as server:
        logo = httpx.get(server.url + logo_url, timeout=10)
        assert logo.content == tree.read("img/logo.png")
        docs_url = logo_url.replace("img/logo.png", "docs")
        redirect = httpx.get(server.url + docs_url + "?q=1", timeout=10)
        assert redirect.status_code == 302
        assert redirect.headers["location"] == "docs/?q=1"
        assert_clean_log(server)
