"""Property-based fuzzing of the sans-IO core: any request gets a valid response.

For any method, any subset of the request headers the core reads, with values
drawn from both their grammar (ranges, entity-tags, dates, codings, including
this resource's real ETag and Last-Modified so every branch is reached) and
arbitrary text, the plan must be a valid HTTP response:

* the status is one the method allows (405 + Allow for anything but GET/HEAD);
* Content-Length equals the body's length (HEAD: the length GET would send);
* a 200 body is exactly the chosen variant's file, a 206 body exactly the
  slice(s) its Content-Range names, 416 names the size;
* 304, HEAD and the other bodiless answers carry no body.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from staticserve.config import Config
from staticserve.http import REQUEST_HEADERS, parse_accept_encoding, parse_range, respond
from staticserve.index import StaticIndex
from staticserve.plan import FileSlice, Multipart, Plan
from staticserve.resource import Resource, Variant
from tests.hardening.conftest import make_hostile_tree

SETTINGS = settings(
    max_examples=200,
    deadline=None,
    # (too_slow is a wall-clock check: suppressed for every test in tests/conftest.py.)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

URLS = ["/static/css/site.css", "/static/big.bin", "/static/empty.txt", "/static/app.js"]


@pytest.fixture(scope="module")
def resources(tmp_path_factory: pytest.TempPathFactory) -> list[Resource]:
    """The same files held in memory and streamed from disk, incl. an empty one."""
    tree = make_hostile_tree(tmp_path_factory.mktemp("fuzz"))
    (tree.root / "empty.txt").write_bytes(b"")
    found = []
    for config in (Config(), Config(memory_file_max=0)):
        index = StaticIndex(config)
        index.add_root(tree.root, "/static/")
        for url in URLS:
            resource = index.lookup(url)
            assert isinstance(resource, Resource)
            found.append(resource)
    return found


# -- strategies --------------------------------------------------------------------

METHODS = st.one_of(
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "head"]),
    st.text(max_size=10),
)
NUMBER = st.one_of(
    st.integers(0, 5000).map(str),
    st.integers(0, 3 * 1024 * 1024).map(str),
    st.integers(0, 10**40).map(str),
    st.sampled_from(["", "-1", "00", "9" * 30, "0x1", " 1"]),
)
RANGE_SPEC = st.one_of(
    st.tuples(NUMBER, NUMBER).map("-".join),
    NUMBER.map(lambda n: "-" + n),
    NUMBER.map(lambda n: n + "-"),
    st.text(max_size=8),
)
RANGE = st.tuples(
    st.sampled_from(["bytes", "BYTES", "bytes ", "items", ""]),
    st.lists(RANGE_SPEC, max_size=40).map(",".join),
).map("=".join)
CODING = st.sampled_from(["br", "gzip", "zstd", "identity", "*", "x-gzip", "BR", "deflate"])
QVALUE = st.sampled_from(["", ";q=0", ";q=1", ";q=0.5", ";q=0.000", ";q=1.0", ";q=2", ";q=x"])
ACCEPT_ENCODING = st.lists(st.tuples(CODING, QVALUE).map("".join), max_size=6).map(", ".join)
DATE = st.one_of(
    st.sampled_from(
        [
            "Thu, 01 Jan 1970 00:00:00 GMT",
            "Fri, 31 Dec 9999 23:59:59 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
            "Mon, 30 Feb 2026 00:00:00 GMT",
        ]
    ),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
)


def etags(resource: Resource) -> st.SearchStrategy[str]:
    real = [v.etag for v in resource.variants]
    tag = st.one_of(
        st.sampled_from(real),
        st.sampled_from(real).map(lambda t: "W/" + t),
        st.text(alphabet='abc-"W/', max_size=8).map(lambda t: f'"{t}"'),
        st.just("*"),
    )
    return st.lists(tag, min_size=1, max_size=5).map(", ".join)


def header_values(resource: Resource, name: str) -> st.SearchStrategy[str]:
    grammar: dict[str, st.SearchStrategy[str]] = {
        "accept-encoding": ACCEPT_ENCODING,
        "range": RANGE,
        "if-range": st.one_of(etags(resource), DATE, st.just(resource.last_modified)),
        "if-match": etags(resource),
        "if-none-match": etags(resource),
        "if-modified-since": st.one_of(DATE, st.just(resource.last_modified)),
        "if-unmodified-since": st.one_of(DATE, st.just(resource.last_modified)),
    }
    return st.one_of(grammar[name], grammar[name], st.text(max_size=30))


@st.composite
def requests(draw: st.DrawFn, resources: list[Resource]) -> tuple[Resource, str, dict[str, str]]:
    resource = draw(st.sampled_from(resources))
    method = draw(METHODS)
    names = draw(st.lists(st.sampled_from(REQUEST_HEADERS), unique=True, max_size=5))
    headers = {name: draw(header_values(resource, name)) for name in names}
    return resource, method, headers


# -- checking a plan -------------------------------------------------------------------


def header_values_of(plan: Plan, name: bytes) -> list[bytes]:
    return [v for k, v in plan.headers if k == name]


def one_header(plan: Plan, name: bytes) -> bytes | None:
    values = header_values_of(plan, name)
    assert len(values) <= 1, f"{name!r} sent {len(values)} times"
    return values[0] if values else None


@functools.lru_cache(maxsize=32)
def file_bytes(path: str) -> bytes:
    return Path(path).read_bytes()  # files do not change during this module


def read_slice(part: FileSlice) -> bytes:
    data = file_bytes(part.variant.path)
    assert part.offset >= 0 and part.length > 0
    assert part.offset + part.length <= len(data) == part.variant.size
    return data[part.offset : part.offset + part.length]


def body_bytes(plan: Plan) -> bytes:
    body = plan.body
    if isinstance(body, bytes):
        return body
    if isinstance(body, FileSlice):
        return read_slice(body)
    assert isinstance(body, Multipart)
    return b"".join(p if isinstance(p, bytes) else read_slice(p) for p in body.parts)


def declared_body_length(plan: Plan) -> int:
    body = plan.body
    if isinstance(body, bytes):
        return len(body)
    return body.length


def variant_of(resource: Resource, plan: Plan) -> Variant:
    encoding = one_header(plan, b"content-encoding")
    name = encoding.decode() if encoding else "identity"
    return next(v for v in resource.variants if v.encoding == name)


def check_multipart(plan: Plan, data: bytes, content: bytes) -> None:
    content_type = one_header(plan, b"content-type") or b""
    assert content_type.startswith(b"multipart/byteranges; boundary=")
    boundary = content_type.split(b"boundary=", 1)[1]
    assert data.endswith(b"--" + boundary + b"--\r\n")
    chunks = data[: -len(boundary) - 6].split(b"--" + boundary + b"\r\n")
    assert chunks[0] == b""
    assert len(chunks) >= 3  # a multipart always has at least two parts
    previous_last = -2
    for chunk in chunks[1:]:
        head, _, part = chunk.partition(b"\r\n\r\n")
        assert part.endswith(b"\r\n")
        fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n"))
        spec, _, size = fields[b"Content-Range"].removeprefix(b"bytes ").partition(b"/")
        first, last = (int(n) for n in spec.split(b"-"))
        assert int(size) == len(content)
        assert previous_last + 1 < first <= last < len(content)  # sorted, coalesced
        assert part[:-2] == content[first : last + 1]
        previous_last = last


def check(resource: Resource, method: str, headers: dict[str, str], plan: Plan) -> None:
    for name, value in plan.headers:
        assert name == name.lower() and b"\r" not in value and b"\n" not in value
    if method not in ("GET", "HEAD"):
        assert plan.status == 405
        assert one_header(plan, b"allow") == b"GET, HEAD"
        assert plan.body == b""
        return
    assert plan.status in (200, 206, 304, 412, 416)
    length = one_header(plan, b"content-length")
    if plan.status == 304:
        assert plan.body == b""
        assert length is None
        assert one_header(plan, b"etag") is not None
        return
    assert length is not None
    if method == "HEAD":
        assert plan.body == b""
        assert plan.status in (200, 412)  # HEAD never ranges
        get = respond(resource, "GET", {k: v for k, v in headers.items() if k != "range"})
        assert get.status == plan.status
        assert int(length) == declared_body_length(get)
        return
    assert int(length) == declared_body_length(plan)
    data = body_bytes(plan)
    assert len(data) == int(length)
    if plan.status in (412, 416):
        assert data == b""
        if plan.status == 416:
            size = resource.identity.size
            assert one_header(plan, b"content-range") == f"bytes */{size}".encode()
        return
    variant = variant_of(resource, plan)
    content = file_bytes(variant.path)
    if plan.status == 200:
        assert data == content
        return
    content_range = one_header(plan, b"content-range")
    if content_range is None:
        check_multipart(plan, data, content)
        return
    spec, _, size = content_range.removeprefix(b"bytes ").partition(b"/")
    first, last = (int(n) for n in spec.split(b"-"))
    assert int(size) == len(content)
    assert 0 <= first <= last < len(content)
    assert data == content[first : last + 1]


@SETTINGS
@given(data=st.data())
def test_any_request_gets_a_valid_http_response(
    resources: list[Resource], data: st.DataObject
) -> None:
    resource, method, headers = data.draw(requests(resources))
    plan = respond(resource, method, headers)
    check(resource, method, headers, plan)


@SETTINGS
@given(data=st.data())
def test_any_request_is_answered_the_same_way_twice(
    resources: list[Resource], data: st.DataObject
) -> None:
    resource, method, headers = data.draw(requests(resources))
    first, second = respond(resource, method, headers), respond(resource, method, headers)
    assert (first.status, first.headers) == (second.status, second.headers)
    if first.status != 405:
        assert body_bytes(first) == body_bytes(second)


@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(RANGE, st.text(max_size=200)),
    size=st.integers(0, 10**12),
    max_ranges=st.integers(0, 64),
)
def test_parse_range_returns_only_satisfiable_ranges_within_the_cap(
    value: str, size: int, max_ranges: int
) -> None:
    ranges = parse_range(value, size, max_ranges)
    if ranges is None:
        return
    assert len(ranges) <= max_ranges
    for first, last in ranges:
        assert 0 <= first <= last < size


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(ACCEPT_ENCODING, st.text(max_size=200)))
def test_parse_accept_encoding_yields_tokens_with_valid_qvalues(value: str) -> None:
    prefs = parse_accept_encoding(value)
    for coding, (q, position) in prefs.items():
        assert coding == coding.lower() and coding.strip() == coding and coding
        assert 0.0 <= q <= 1.0
        assert 0 <= position <= value.count(",")
