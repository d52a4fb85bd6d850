"""staticserve behind a real shared cache (Varnish, nginx proxy_cache): what a CDN does.

The origin is staticserve on uvicorn with ``max_age=1`` (so expiry can be
watched within a test) and ``memory_file_max=0`` (every file is streamed and
re-checked on disk, so a changed file reaches the origin's answers). The origin
app records each request that reaches it (``/__origin__``), which is how these
tests prove what the cache served by itself.

Both caches are configured as docs/cdn.md recommends: ``Accept-Encoding``
normalised to one of ``br`` / ``gzip`` / nothing, ``Vary`` honoured, stale
entries kept for conditional revalidation. The binaries come from the Debian
packages ``varnish`` and ``nginx``; if one is missing the test fails (run
``.ci/run``, which installs them) rather than skipping.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import brotli
import httpx
import pytest

from tests.hardening.conftest import CSS
from tests.support.servers import Server, free_port, running_server, stop_process, wait_for_port

pytestmark = pytest.mark.timeout(90)

VARNISHD = "/usr/sbin/varnishd"
NGINX = "/usr/sbin/nginx"
# Immutable by the default hashed-name test. One file per test that counts the
# origin's fetches of it, so the counts do not depend on which test ran first.
HASHED_ONCE = "once.0123456789ab.css"
HASHED_CODINGS = "codings.0123456789ab.css"
HASHED_REVALIDATE = "revalidate.0123456789ab.css"

VCL = """\
vcl 4.1;

backend origin {{ .host = "127.0.0.1"; .port = "{port}"; }}

sub vcl_recv {{
    # One cached object per coding the origin can produce, not one per
    # spelling of Accept-Encoding; the origin still picks (and Varies).
    if (req.http.Accept-Encoding ~ "(^|[ ,])br($|[ ,;])") {{
        set req.http.Accept-Encoding = "br";
    }} elsif (req.http.Accept-Encoding ~ "(^|[ ,])gzip($|[ ,;])") {{
        set req.http.Accept-Encoding = "gzip";
    }} else {{
        unset req.http.Accept-Encoding;
    }}
}}

sub vcl_backend_response {{
    set beresp.grace = 0s;  # no stale answers: expiry is visible to the test
    set beresp.keep = 1h;   # keep expired objects to revalidate (If-None-Match)
}}

sub vcl_deliver {{
    if (obj.hits > 0) {{ set resp.http.X-Cache = "HIT"; }}
    else {{ set resp.http.X-Cache = "MISS"; }}
}}
"""

NGINX_CONF = """\
daemon off;
master_process off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    proxy_cache_path {dir}/cache levels=1:2 keys_zone=static:1m max_size=64m
                     inactive=1h use_temp_path=off;
    map $http_accept_encoding $static_coding {{
        "~*(^|[ ,])br($|[ ,;])"   br;
        "~*(^|[ ,])gzip($|[ ,;])" gzip;
        default                   "";
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://127.0.0.1:{origin};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Accept-Encoding $static_coding;
            proxy_cache static;
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            add_header X-Cache $upstream_cache_status always;
        }}
    }}
}}
"""


def require(binary: str, package: str) -> None:
    if not os.access(binary, os.X_OK):
        pytest.fail(
            f"{binary} is missing: install the Debian package {package!r} "
            "(run .ci/run, which installs nginx and varnish); this test never skips"
        )


@dataclass
class Cached:
    kind: str
    url: str
    origin: Server
    root: Path
    client: httpx.Client

    def origin_requests(self, path: str) -> list[tuple[int, str, str]]:
        """(status, If-None-Match, Accept-Encoding) of each request that reached the origin."""
        seen = httpx.get(self.origin.url + "/__origin__", timeout=10).json()
        return [(status, inm, ae) for p, status, inm, ae in seen if p == path]


def start_varnish(workdir: Path, origin_port: int) -> tuple[subprocess.Popen[bytes], int, Path]:
    require(VARNISHD, "varnish")
    port = free_port()
    vcl = workdir / "default.vcl"
    vcl.write_text(VCL.format(port=origin_port))
    log = workdir / "varnishd.log"
    command = [
        VARNISHD, "-F", "-n", str(workdir / "varnish"), "-a", f"127.0.0.1:{port}",
        "-f", str(vcl), "-s", "malloc,32m", "-j", "none",
        "-p", "http_gzip_support=off",  # pass Accept-Encoding through; rely on Vary
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    return proc, port, log


def start_nginx(workdir: Path, origin_port: int) -> tuple[subprocess.Popen[bytes], int, Path]:
    require(NGINX, "nginx")
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=workdir, port=port, origin=origin_port))
    log = workdir / "error.log"
    command = [NGINX, "-p", str(workdir), "-e", str(log), "-c", str(conf)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return proc, port, log


@pytest.fixture(scope="module", params=["varnish", "nginx"])
def cached(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cached]:
    kind: str = request.param
    base = tmp_path_factory.mktemp(f"cache-{kind}")
    root = base / "root"
    root.mkdir()
    for name in (HASHED_ONCE, HASHED_CODINGS, HASHED_REVALIDATE):
        (root / name).write_bytes(CSS)
        (root / (name + ".br")).write_bytes(brotli.compress(CSS))
        (root / (name + ".gz")).write_bytes(gzip.compress(CSS, mtime=0))
    (root / "plain.txt").write_bytes(b"plain, unhashed\n")
    (root / "changing.txt").write_bytes(b"version one\n")
    env = {
        "HARDEN_ROOT": str(root),
        "HARDEN_OPTIONS": json.dumps({"max_age": 1, "memory_file_max": 0, "recheck_interval": 0}),
    }
    with running_server("uvicorn", "tests.hardening.apps:asgi_counted", env=env) as origin:
        origin_port = int(origin.url.rsplit(":", 1)[1])
        workdir = base / "work"
        workdir.mkdir()
        start = start_varnish if kind == "varnish" else start_nginx
        proc, port, log = start(workdir, origin_port)
        try:
            wait_for_port(port, proc, log, timeout=30)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                yield Cached(kind, f"http://127.0.0.1:{port}", origin, root, client)
        finally:
            stop_process(proc)
            shutil.rmtree(workdir / "varnish", ignore_errors=True)


def get(cached: Cached, path: str, **headers: str) -> httpx.Response:
    return cached.client.get(path, headers=headers)


def test_immutable_file_is_fetched_from_the_origin_once(cached: Cached) -> None:
    path = "/static/" + HASHED_ONCE
    responses = [get(cached, path, **{"accept-encoding": "identity"}) for _ in range(5)]
    assert all(r.status_code == 200 and r.content == CSS for r in responses)
    assert responses[0].headers["cache-control"] == "public, max-age=31536000, immutable"
    assert [r.headers["x-cache"] for r in responses[1:]] == ["HIT"] * 4
    assert len(cached.origin_requests(path)) == 1
    assert_clean_log(cached)


def test_brotli_gzip_and_identity_clients_each_get_a_body_they_can_decode(
    cached: Cached,
) -> None:
    path = "/static/" + HASHED_CODINGS
    clients = {
        "br": ("gzip, deflate, br", "br", brotli.decompress),
        "gzip": ("gzip", "gzip", gzip.decompress),
        "identity": ("identity", None, lambda data: data),
    }
    for _ in range(3):  # interleaved, so each answer comes from the shared cache
        for accept, expected_coding, decode in clients.values():
            with cached.client.stream("GET", path, headers={"accept-encoding": accept}) as r:
                raw = b"".join(r.iter_raw())
            assert r.status_code == 200
            assert r.headers.get("content-encoding") == expected_coding
            assert "accept-encoding" in r.headers["vary"].lower()
            assert decode(raw) == CSS
    # One origin fetch per coding (the cache sends no Accept-Encoding for identity).
    codings = [ae for _, _, ae in cached.origin_requests(path)]
    assert sorted(codings) == ["", "br", "gzip"]
    assert_clean_log(cached)


def test_client_revalidation_is_answered_304_by_the_cache(cached: Cached) -> None:
    path = "/static/" + HASHED_REVALIDATE
    first = get(cached, path, **{"accept-encoding": "gzip"})
    before = len(cached.origin_requests(path))
    again = get(cached, path, **{"accept-encoding": "gzip", "if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert len(cached.origin_requests(path)) == before
    assert_clean_log(cached)


def freshness_left(response: httpx.Response) -> float:
    """Seconds the cache will still answer ``response`` by itself: max-age minus Age.

    (Varnish sends ``Age``; nginx does not, and its answer is then taken as
    new, which only makes the window longer than it is.)
    """
    max_age = int(response.headers["cache-control"].partition("max-age=")[2].split(",")[0])
    return max(0.0, max_age - int(response.headers.get("age", "0")))


def poll(
    cached: Cached, path: str, done: Callable[[httpx.Response], bool], window: float
) -> list[httpx.Response]:
    """GET ``path`` until ``done(response)``; every response seen, in order.

    The deadline is the freshness window from the headers plus a hang guard
    (30 s, at least 10x the one-second max-age); reaching it fails the test.
    """
    deadline = time.monotonic() + window + 30
    responses: list[httpx.Response] = []
    while True:
        response = get(cached, path)
        responses.append(response)
        if done(response):
            return responses
        assert time.monotonic() < deadline, [r.headers.get("x-cache") for r in responses]
        time.sleep(0.05)  # polling interval, not a wait sized for the expiry


def test_expired_entry_is_revalidated_with_the_origin_by_a_304(cached: Cached) -> None:
    path = "/static/plain.txt"
    first = get(cached, path)
    assert first.headers["cache-control"] == "public, max-age=1"
    # Until its max-age has passed the cache answers alone; after that it asks
    # the origin, with the ETag it holds, and gets a 304.
    poll(cached, path, lambda _: len(cached.origin_requests(path)) > 1, freshness_left(first))
    seen = cached.origin_requests(path)
    assert seen[0][:2] == (200, "")
    assert seen[1][:2] == (304, first.headers["etag"]), seen
    second = get(cached, path)
    assert second.status_code == 200
    assert second.content == b"plain, unhashed\n"
    assert second.headers["content-length"] == str(len(b"plain, unhashed\n"))
    assert_clean_log(cached)


def test_changed_unhashed_file_is_picked_up_after_its_max_age(cached: Cached) -> None:
    path = "/static/changing.txt"
    old, new_content = b"version one\n", b"version two, longer\n"
    first = get(cached, path)
    assert first.content == old
    new = cached.root / "changing.txt.new"
    new.write_bytes(new_content)
    os.replace(new, cached.root / "changing.txt")
    responses = poll(cached, path, lambda r: r.content == new_content, freshness_left(first))
    # Every answer is one whole version: the old one only from the cache,
    # the new one with its own length.
    for response in responses[:-1]:
        assert response.content == old
        assert response.headers["x-cache"] == "HIT"
    assert responses[-1].headers["content-length"] == str(len(new_content))
    assert_clean_log(cached)


def assert_clean_log(cached: Cached) -> None:
    """Checked by each test (not in a last test: order must not matter)."""
    assert "Traceback" not in cached.origin.log()
