"""Hostile request headers: a correct status and bounded work.

Table-driven through the sans-IO core (every HTTP rule lives there), then the
worst of them over raw sockets to uvicorn, whose parser (httptools) puts no
limit on header size, so megabyte headers do reach the application.

"Bounded work" is measured in ways that do not depend on the machine or its
load: Python lines executed (``sys.settrace``), bytes allocated
(``tracemalloc``), and, for work inside a single C call, the ratio of two
CPU-time measurements taken in the same test. No test here has a time limit.
"""

from __future__ import annotations

import gc
import socket
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest

import staticserve
from staticserve import http
from staticserve.http import parse_range, respond
from staticserve.index import StaticIndex
from staticserve.plan import Plan
from staticserve.resource import Resource
from tests.hardening.conftest import BIG, CSS, HostileTree, make_hostile_tree
from tests.support.servers import Server, running_server

pytestmark = pytest.mark.timeout(60)

MB = 1024 * 1024


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> HostileTree:
    return make_hostile_tree(tmp_path_factory.mktemp("headers"))


@pytest.fixture(scope="module")
def css(tree: HostileTree) -> Resource:
    """A resource with br and gzip siblings, held in memory."""
    index = StaticIndex()
    index.add_root(tree.root, "/static/")
    resource = index.lookup("/static/css/site.css")
    assert isinstance(resource, Resource)
    return resource


def header(plan: Plan, name: bytes) -> bytes | None:
    return next((v for k, v in plan.headers if k == name), None)


# (case id, request headers, expected status). Identity is asked for unless the
# case is about Accept-Encoding, so ranges apply.
SIZE = len(CSS)
HOSTILE: list[tuple[str, dict[str, str], int]] = [
    # -- Range
    ("range-thousands", {"range": "bytes=" + ",".join(f"{i}-{i}" for i in range(5000))}, 200),
    ("range-thousands-overlapping", {"range": "bytes=" + ",".join(["0-100"] * 5000)}, 200),
    ("range-overlapping-few", {"range": "bytes=0-100,50-150,100-200"}, 206),
    ("range-negative", {"range": "bytes=-5-10"}, 200),
    ("range-negative-last", {"range": "bytes=5--10"}, 200),
    ("range-reversed", {"range": "bytes=10-5"}, 200),
    ("range-non-numeric", {"range": "bytes=a-b"}, 200),
    ("range-hex", {"range": "bytes=0x10-0x20"}, 200),
    ("range-float", {"range": "bytes=1.5-2"}, 200),
    ("range-plus-sign", {"range": "bytes=+1-2"}, 200),
    ("range-unicode-digits", {"range": "bytes=\u0661-\u0662"}, 200),
    ("range-fullwidth-digits", {"range": "bytes=\uff11-\uff12"}, 200),
    ("range-10k-digit-start", {"range": "bytes=" + "9" * 10_000 + "-"}, 416),
    ("range-10k-digit-end", {"range": "bytes=0-" + "9" * 10_000}, 200),
    ("range-10k-digit-suffix", {"range": "bytes=-" + "9" * 10_000}, 200),
    ("range-10k-zeros-then-1", {"range": "bytes=" + "0" * 10_000 + "1-2"}, 206),
    ("range-overflow-int64", {"range": "bytes=9223372036854775808-"}, 416),
    ("range-other-unit", {"range": "items=0-1"}, 200),
    ("range-no-equals", {"range": "bytes 0-1"}, 200),
    ("range-empty", {"range": ""}, 200),
    ("range-only-commas", {"range": "bytes=,,,,"}, 200),
    ("range-1mb-of-commas", {"range": "bytes=" + "," * MB}, 200),
    ("range-1mb-of-ranges", {"range": "bytes=" + "0-0," * (MB // 4)}, 200),
    ("range-nul", {"range": "bytes=0-1\x00"}, 200),
    ("range-crlf", {"range": "bytes=0-1\r\nX: y"}, 200),
    ("range-unsatisfiable", {"range": f"bytes={SIZE}-"}, 416),
    ("range-suffix-zero", {"range": "bytes=-0"}, 416),
    ("range-whole-file", {"range": "bytes=0-"}, 200),
    # -- Accept-Encoding
    ("ae-garbage", {"accept-encoding": "\x00\xff;;;q=q,,=,"}, 200),
    ("ae-bad-q", {"accept-encoding": "br;q=2, gzip;q=-1, identity;q=abc"}, 200),
    ("ae-huge-q", {"accept-encoding": "br;q=0." + "0" * 10_000 + "1"}, 200),
    ("ae-1mb", {"accept-encoding": "gzip;q=0.5, " * (MB // 12)}, 200),
    ("ae-refuse-everything", {"accept-encoding": "*;q=0, identity;q=0"}, 200),
    ("ae-thousands-of-codings", {"accept-encoding": ",".join(f"c{i}" for i in range(5000))}, 200),
    # -- If-Modified-Since / If-Unmodified-Since
    ("ims-rfc850", {"if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT"}, 200),
    ("ims-asctime", {"if-modified-since": "Sun Nov  6 08:49:37 1994"}, 200),
    ("ims-future-imf", {"if-modified-since": "Fri, 31 Dec 9999 23:59:59 GMT"}, 304),
    ("ims-year-0", {"if-modified-since": "Sat, 01 Jan 0000 00:00:00 GMT"}, 200),
    ("ims-feb-30", {"if-modified-since": "Mon, 30 Feb 2026 00:00:00 GMT"}, 200),
    ("ims-hour-99", {"if-modified-since": "Sun, 06 Nov 1994 99:99:99 GMT"}, 200),
    ("ims-iso8601", {"if-modified-since": "2026-01-01T00:00:00Z"}, 200),
    ("ims-epoch-number", {"if-modified-since": "1700000000"}, 200),
    ("ims-negative", {"if-modified-since": "-1"}, 200),
    ("ims-10k-chars", {"if-modified-since": "Sun, " + "9" * 10_000}, 200),
    ("ims-wrong-zone", {"if-modified-since": "Fri, 31 Dec 9999 23:59:59 +0100"}, 200),
    ("ims-nonsense", {"if-modified-since": "yesterday-ish"}, 200),
    ("ius-nonsense", {"if-unmodified-since": "\x00\x01"}, 200),
    ("ius-year-1970", {"if-unmodified-since": "Thu, 01 Jan 1970 00:00:00 GMT"}, 412),
    # -- If-None-Match / If-Match / If-Range
    ("inm-thousands", {"if-none-match": ", ".join(f'"t{i}"' for i in range(10_000))}, 200),
    ("inm-thousands-weak", {"if-none-match": ", ".join(f'W/"t{i}"' for i in range(10_000))}, 200),
    ("inm-unterminated", {"if-none-match": '"' + "a" * 100_000}, 200),
    ("inm-quotes-only", {"if-none-match": '"' * 100_001}, 200),
    ("inm-garbage", {"if-none-match": "W/W/W/,,,*,"}, 200),
    ("im-thousands", {"if-match": ", ".join(f'"t{i}"' for i in range(10_000))}, 412),
    ("im-garbage", {"if-match": "\x00"}, 412),
    ("if-range-garbage", {"range": "bytes=0-1", "if-range": "\x00garbage"}, 200),
    ("if-range-weak", {"range": "bytes=0-1", "if-range": 'W/"x"'}, 200),
    ("if-range-10k", {"range": "bytes=0-1", "if-range": "9" * 10_000}, 200),
    # -- duplicated headers, as adapters join them ("a, b")
    ("dup-range", {"range": "bytes=0-1, bytes=2-3"}, 200),
    ("dup-ims", {"if-modified-since": "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994"}, 200),
    ("dup-ae", {"accept-encoding": "gzip, gzip, br, br;q=0"}, 200),
]


def run(resource: Resource, headers: dict[str, str], method: str = "GET") -> Plan:
    if "accept-encoding" not in headers:
        headers = {"accept-encoding": "identity", **headers}
    return respond(resource, method, headers, "", 32)


@pytest.mark.parametrize(
    ("headers", "status"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_hostile_header_gets_the_correct_status(
    css: Resource, headers: dict[str, str], status: int
) -> None:
    plan = run(css, headers)
    assert plan.status == status
    if status == 200:
        length = int(header(plan, b"content-length") or b"-1")
        body = plan.body
        assert length == (len(body) if isinstance(body, bytes) else body.length)


@pytest.mark.parametrize(
    ("headers", "status"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_hostile_header_with_head_has_no_body(
    css: Resource, headers: dict[str, str], status: int
) -> None:
    plan = run(css, headers, "HEAD")
    assert plan.body == b""
    assert plan.status in (200, 304, 412)


def python_steps(function: Callable[[], object]) -> int:
    """Lines of staticserve's Python executed by ``function()`` (its callees included).

    A count, not a time: the same on any machine under any load, and it grows
    with every Python-level step a loop over a header's members would take.
    Only lines in staticserve's own files count, with the garbage collector
    held off: a collection during the call would run other tests' finalizers
    (an event loop's, a client's) inside it, and did (CI: 84 lines at 32 KiB,
    293 at 1 MiB, for the same parse).
    """
    steps = 0
    package = str(Path(staticserve.__file__).parent)

    def trace(frame: FrameType, event: str, arg: object) -> Callable[..., object] | None:
        nonlocal steps
        if not frame.f_code.co_filename.startswith(package):
            return None  # not staticserve: no line events for this frame
        if event == "line":
            steps += 1
        return trace

    gc.collect()
    gc.disable()
    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        function()
    finally:
        sys.settrace(previous)
        gc.enable()
    return steps


# The most Python lines one request may execute, whatever its headers. An
# ordinary request takes ~40-150; the largest case, Accept-Encoding, parses
# at most its first 4 KiB (~13,000 lines for 700 tiny members). A Python loop
# over the members of any of the table's 10,000-member or 1 MiB headers takes
# 100,000+ lines.
MAX_STEPS = 20_000


@pytest.mark.parametrize("headers", [c[1] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_hostile_header_costs_a_bounded_number_of_python_steps(
    css: Resource, headers: dict[str, str]
) -> None:
    # (Measured on the first sight of each value: the parse caches are cleared.)
    http._accept_cache.clear()
    css.negotiated.clear()
    steps = python_steps(lambda: run(css, headers))
    assert steps <= MAX_STEPS, f"{steps} Python lines for one request"


# Header families, built at any size ``n`` (bytes, roughly) and made distinct
# by ``i`` so that no parse cache answers for a repeated value.
FAMILIES: dict[str, Callable[[int, int], dict[str, str]]] = {
    "range-commas": lambda n, i: {"range": f"bytes={i}-{i}," + "," * n},
    "range-members": lambda n, i: {"range": f"bytes={i}-{i}," + "0-0," * (n // 4)},
    "range-digits": lambda n, i: {"range": f"bytes={i}" + "9" * n + "-"},
    "range-leading-zeros": lambda n, i: {"range": "bytes=" + "0" * n + f"{i + 1}-"},
    "accept-encoding-members": lambda n, i: {
        "accept-encoding": f"x{i}, " + "gzip;q=0.5, " * (n // 12)
    },
    "accept-encoding-qvalue": lambda n, i: {"accept-encoding": f"x{i}, br;q=0." + "0" * n + "1"},
    "if-none-match-tags": lambda n, i: {"if-none-match": f'"u{i}", ' + '"t", ' * (n // 5)},
    "if-none-match-weak-tags": lambda n, i: {"if-none-match": f'"u{i}", ' + 'W/"t", ' * (n // 7)},
    "if-none-match-unterminated": lambda n, i: {"if-none-match": f'"u{i}' + "a" * n},
    "if-match-tags": lambda n, i: {"if-match": f'"u{i}", ' + '"t", ' * (n // 5)},
    "if-modified-since-long": lambda n, i: {"if-modified-since": f"Sun, {i}" + "9" * n},
    "if-range-long": lambda n, i: {"range": "bytes=0-1", "if-range": f"{i}" + "9" * n},
}
SMALL, LARGE = 32 * 1024, MB


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_python_steps_do_not_grow_with_header_size(
    css: Resource, family: Callable[[int, int], dict[str, str]]
) -> None:
    small = python_steps(lambda: run(css, family(SMALL, 1)))
    large = python_steps(lambda: run(css, family(LARGE, 2)))
    # 32 times the bytes: the same steps, give or take a branch or two.
    assert large <= small + 50, f"{small} Python lines at 32 KiB, {large} at 1 MiB"


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_memory_per_request_is_at_most_a_few_copies_of_the_header(
    css: Resource, family: Callable[[int, int], dict[str, str]]
) -> None:
    headers = family(LARGE, 3)
    size = sum(len(value) for value in headers.values())
    tracemalloc.start()
    try:
        run(css, headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A slice or two of the value is fine; splitting it into its members
    # (a quarter of a million small strings: ~16 MiB) is not.
    assert peak <= 4 * size, f"peak {peak} bytes for a {size}-byte header"


@pytest.mark.parametrize("family", FAMILIES.values(), ids=FAMILIES.keys())
def test_c_level_work_is_at_most_linear_in_header_size(
    css: Resource, family: Callable[[int, int], dict[str, str]]
) -> None:
    """What the step count cannot see: work inside one C call (a regex, a split).

    A ratio of two measurements taken in the same test, not a time limit: the
    CPU time of this thread (so time spent descheduled on a loaded machine
    does not count) for a 64 KiB header over that for a 4 KiB one, each the
    least of several interleaved samples. Linear work gives at most 16 (about
    14 for the digit-scanning cases, less where fixed costs dominate),
    quadratic work about 256; the bound is 64. Both sizes stay small so that
    both fit in the CPU caches: at a megabyte, cache misses on a busy machine
    make even linear work look superlinear.
    """
    small_size, large_size = 4 * 1024, 64 * 1024
    samples: dict[int, list[float]] = {small_size: [], large_size: []}
    gc.collect()
    gc.disable()  # no collection (and other tests' finalizers) inside a sample
    try:
        for i in range(9):
            for size in (small_size, large_size):
                headers = family(size, 100 + i)
                started = time.thread_time()
                run(css, headers)
                samples[size].append(time.thread_time() - started)
    finally:
        gc.enable()
    small, large = min(samples[small_size]), min(samples[large_size])
    ratio = large / max(small, 1e-6)
    assert ratio <= 64, f"{small * 1e6:.0f} µs at 4 KiB, {large * 1e6:.0f} µs at 64 KiB"


def test_megabyte_range_header_is_rejected_without_splitting_it_into_members() -> None:
    # 262,144 ranges: the core must give up after max_ranges members, not build
    # a list of a quarter of a million strings first (~16 MB of objects).
    value = "bytes=" + "0-0," * (MB // 4)
    tracemalloc.start()
    try:
        assert parse_range(value, 1000, 32) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * len(value), f"peak {peak} bytes for a {len(value)}-byte header"


def test_distinct_huge_accept_encodings_are_not_retained(css: Resource) -> None:
    # Parsed Accept-Encoding values are cached; a client sending megabyte values
    # must not make the cache hold megabytes each (uvicorn lets 1 MiB through).
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for i in range(64):
            run(css, {"accept-encoding": f"x{i}, " + "gzip, " * (MB // 6)})
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 8 * MB, f"retained {(after - before) / MB:.0f} MiB"


def test_thousands_of_if_none_match_tags_still_match_the_current_one(css: Resource) -> None:
    tags = [f'"t{i}"' for i in range(10_000)] + [css.identity.etag]
    assert run(css, {"if-none-match": ", ".join(tags)}).status == 304


def test_overlapping_ranges_are_coalesced_into_one_part(css: Resource) -> None:
    plan = run(css, {"range": "bytes=0-100,50-150,100-200"})
    assert plan.status == 206
    assert header(plan, b"content-range") == f"bytes 0-200/{SIZE}".encode()


def test_more_than_max_ranges_serves_the_whole_file(css: Resource) -> None:
    plan = run(css, {"range": "bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(33))})
    assert plan.status == 200
    assert plan.body == CSS


# -- over a real socket: uvicorn passes megabyte headers through ----------------


@pytest.fixture(scope="module")
def uvicorn(tree: HostileTree) -> Iterator[Server]:
    env = {"HARDEN_ROOT": str(tree.root)}
    with running_server("uvicorn", "tests.hardening.apps:asgi_app", env=env) as server:
        yield server


def raw_get(server: Server, path: str, header_lines: bytes) -> bytes:
    port = int(server.url.rsplit(":", 1)[1])
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
        + header_lines
        + b"\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        chunks = []
        while data := sock.recv(1 << 16):
            chunks.append(data)
    return b"".join(chunks)


SOCKET_CASES: list[tuple[str, bytes, bytes]] = [
    ("1mb-range", b"Range: bytes=" + b"0-0," * (MB // 4) + b"\r\n", b"200"),
    ("1mb-accept-encoding", b"Accept-Encoding: " + b"gzip;q=0.1," * (MB // 11) + b"\r\n", b"200"),
    ("10k-duplicate-ranges", b"Range: bytes=0-1\r\n" * 10_000, b"200"),
    ("10k-duplicate-if-none-match", b'If-None-Match: "x"\r\n' * 10_000, b"200"),
    ("10k-digit-range", b"Range: bytes=" + b"7" * 10_000 + b"-\r\n", b"416"),
    ("thousands-of-ranges", b"Range: bytes=" + b"0-1," * 5000 + b"\r\n", b"200"),
]


@pytest.mark.parametrize(
    ("lines", "status"), [c[1:] for c in SOCKET_CASES], ids=[c[0] for c in SOCKET_CASES]
)
def test_hostile_headers_over_a_socket_get_the_correct_status(
    uvicorn: Server, lines: bytes, status: bytes
) -> None:
    # (No time limit: the module's pytest timeout is the hang guard.)
    response = raw_get(uvicorn, "/static/big.bin", b"Accept-Encoding: identity\r\n" + lines)
    assert response.split(b" ", 2)[1] == status
    if status == b"200":
        _, _, body = response.partition(b"\r\n\r\n")
        assert body == BIG
    # Checked here, after each case, not in a later test: order must not matter.
    assert "Traceback" not in uvicorn.log()
