"""The sans-IO HTTP core: every rule of staticserve.http, without any server."""

from __future__ import annotations

import gzip
import os
from email.utils import formatdate
from pathlib import Path

import brotli
import pytest
from hypothesis import given
from hypothesis import strategies as st

from staticserve.config import Config
from staticserve.http import (
    _ETAG_LIST,
    ETAG_LIST_MAX,
    ErrorPlans,
    coalesce,
    marks_miss,
    parse_accept_encoding,
    parse_etag_list,
    parse_http_date,
    parse_range,
    respond,
    select_variant,
)
from staticserve.plan import FileSlice, Multipart, Plan
from staticserve.resource import Redirect, Resource, load_resource

CONTENT = b"".join(b"line %04d of a stylesheet body{color:red}\n" % i for i in range(200))
MTIME = 1_700_000_000


def make_resource(
    directory: Path,
    name: str = "app.css",
    content: bytes = CONTENT,
    encodings: tuple[str, ...] = ("br", "gzip"),
    in_memory: bool = False,
) -> Resource:
    path = directory / name
    path.write_bytes(content)
    siblings = {"br": (".br", brotli.compress), "gzip": (".gz", _gzip)}
    for encoding in encodings:
        suffix, compress = siblings[encoding]
        (directory / (name + suffix)).write_bytes(compress(content))
    for p in directory.iterdir():
        os.utime(p, (MTIME, MTIME))
    from staticserve.resource import MemoryBudget

    memory = MemoryBudget(1 << 20, 1 << 24) if in_memory else None
    return load_resource("/static/" + name, str(path), encodings, Config(), memory=memory)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


@pytest.fixture
def resource(tmp_path: Path) -> Resource:
    return make_resource(tmp_path)


def header(plan: Plan, name: str) -> str | None:
    values = [v.decode("latin-1") for k, v in plan.headers if k == name.encode()]
    assert len(values) <= 1, f"{name} sent {len(values)} times"
    return values[0] if values else None


def body_bytes(plan: Plan) -> bytes:
    def part_bytes(part: bytes | FileSlice) -> bytes:
        if isinstance(part, bytes):
            return part
        with open(part.variant.path, "rb") as f:
            f.seek(part.offset)
            return f.read(part.length)

    if isinstance(plan.body, Multipart):
        return b"".join(part_bytes(p) for p in plan.body.parts)
    return part_bytes(plan.body)


# -- methods --------------------------------------------------------------------


def test_get_returns_the_whole_file(resource: Resource) -> None:
    plan = respond(resource, "GET", {})
    assert plan.status == 200
    assert body_bytes(plan) == CONTENT
    assert header(plan, "content-length") == str(len(CONTENT))


def test_head_has_the_headers_of_get_and_no_body(resource: Resource) -> None:
    get, head = respond(resource, "GET", {}), respond(resource, "HEAD", {})
    assert head.headers == get.headers
    assert head.body == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get", "BREW"])
def test_other_methods_get_405_with_allow(resource: Resource, method: str) -> None:
    plan = respond(resource, method, {})
    assert plan.status == 405
    assert header(plan, "allow") == "GET, HEAD"
    assert plan.body == b"" and header(plan, "content-length") == "0"


def test_head_ignores_range(resource: Resource) -> None:
    plan = respond(resource, "HEAD", {"range": "bytes=0-9"})
    assert plan.status == 200
    assert header(plan, "content-length") == str(len(CONTENT))


# -- response headers -------------------------------------------------------------


def test_text_types_carry_a_utf8_charset(resource: Resource) -> None:
    assert header(respond(resource, "GET", {}), "content-type") == "text/css; charset=utf-8"


def test_every_response_advertises_byte_ranges(resource: Resource) -> None:
    assert header(respond(resource, "GET", {}), "accept-ranges") == "bytes"


def test_vary_accept_encoding_when_a_compressed_variant_exists(resource: Resource) -> None:
    for ae in (None, "br", "gzip", "identity"):
        headers = {"accept-encoding": ae} if ae else {}
        assert header(respond(resource, "GET", headers), "vary") == "Accept-Encoding"


def test_no_vary_without_compressed_variants(tmp_path: Path) -> None:
    res = make_resource(tmp_path, encodings=())
    assert header(respond(res, "GET", {"accept-encoding": "br"}), "vary") is None


def test_last_modified_is_the_file_mtime(resource: Resource) -> None:
    plan = respond(resource, "GET", {})
    assert header(plan, "last-modified") == formatdate(MTIME, usegmt=True)


# -- negotiation --------------------------------------------------------------


def test_no_accept_encoding_gets_identity(resource: Resource) -> None:
    plan = respond(resource, "GET", {})
    assert header(plan, "content-encoding") is None
    assert body_bytes(plan) == CONTENT


def test_smallest_acceptable_variant_wins(resource: Resource) -> None:
    plan = respond(resource, "GET", {"accept-encoding": "gzip, deflate, br"})
    assert header(plan, "content-encoding") == "br"  # brotli output is smaller here
    assert brotli.decompress(body_bytes(plan)) == CONTENT


def test_gzip_only_client_gets_gzip(resource: Resource) -> None:
    plan = respond(resource, "GET", {"accept-encoding": "gzip"})
    assert header(plan, "content-encoding") == "gzip"
    assert gzip.decompress(body_bytes(plan)) == CONTENT


def test_q_zero_refuses_a_coding(resource: Resource) -> None:
    plan = respond(resource, "GET", {"accept-encoding": "br;q=0, gzip"})
    assert header(plan, "content-encoding") == "gzip"


def test_star_accepts_every_coding(resource: Resource) -> None:
    assert header(respond(resource, "GET", {"accept-encoding": "*"}), "content-encoding") == "br"


def test_star_q_zero_with_explicit_gzip(resource: Resource) -> None:
    plan = respond(resource, "GET", {"accept-encoding": "gzip;q=0.5, *;q=0"})
    assert header(plan, "content-encoding") == "gzip"


def test_codings_are_case_insensitive(resource: Resource) -> None:
    assert header(respond(resource, "GET", {"accept-encoding": "GZIP"}), "content-encoding") == (
        "gzip"
    )


def test_x_gzip_is_gzip(resource: Resource) -> None:
    assert header(respond(resource, "GET", {"accept-encoding": "x-gzip"}), "content-encoding") == (
        "gzip"
    )


def test_empty_accept_encoding_means_identity(resource: Resource) -> None:
    assert header(respond(resource, "GET", {"accept-encoding": ""}), "content-encoding") is None


def test_identity_refused_and_nothing_else_sends_identity_anyway(resource: Resource) -> None:
    plan = respond(resource, "GET", {"accept-encoding": "identity;q=0, deflate"})
    assert plan.status == 200 and header(plan, "content-encoding") is None


@pytest.mark.parametrize(
    "value",
    ["gzip;q=2", "gzip;q=abc", "gzip;level=5", ";;;,,,", "g\x00zip", "b r", "gzip;q=0.0001"],
)
def test_garbage_accept_encoding_members_are_ignored(resource: Resource, value: str) -> None:
    plan = respond(resource, "GET", {"accept-encoding": value})
    assert plan.status == 200
    assert header(plan, "content-encoding") is None


def test_equal_sizes_go_to_the_clients_first_choice(tmp_path: Path) -> None:
    res = make_resource(tmp_path, encodings=("br", "gzip"))
    br, gz = sorted(res.encoded, key=lambda v: v.encoding)
    gz.size = br.size  # same size: the client's order decides
    # Tables are shared by resources of one shape, and this one's shape changed:
    # what it learns must not reach the other resources loaded in this process.
    res.negotiated = {}
    assert select_variant(res, "gzip, br").encoding == "gzip"
    assert select_variant(res, "br, gzip").encoding == "br"


def test_an_asgi_value_is_remembered_before_the_str_of_the_same_text(tmp_path: Path) -> None:
    """Equal text as bytes and str hash alike, and a lookup meets the first one
    stored: the bytes the ASGI fast path looks up must come before the str the
    general path remembers."""
    res = make_resource(tmp_path)
    select_variant(res, "gzip, br")
    select_variant(res, b"identity")
    select_variant(res, b"gzip, br")
    keys = list(res.negotiated)
    assert keys.index(b"gzip, br") < keys.index("gzip, br")
    assert select_variant(res, b"gzip, br") is select_variant(res, "gzip, br")


def test_parse_accept_encoding_keeps_q_and_position() -> None:
    assert parse_accept_encoding("gzip;q=0.8, br , *;q=0") == {
        "gzip": (0.8, 0),
        "br": (1.0, 1),
        "*": (0.0, 2),
    }


@given(st.text(max_size=200))
def test_any_accept_encoding_selects_an_existing_variant(value: str) -> None:
    res = _SHARED_RESOURCE
    assert select_variant(res, value) in res.variants


# -- per-encoding representations ----------------------------------------------


def test_each_encoding_has_its_own_strong_etag(resource: Resource) -> None:
    etags = {v.encoding: v.etag for v in resource.variants}
    assert len(set(etags.values())) == 3
    assert etags["br"] == etags["identity"][:-1] + '-br"'
    assert etags["gzip"] == etags["identity"][:-1] + '-gz"'
    assert all(not e.startswith("W/") for e in etags.values())


def test_each_encoding_has_its_own_content_length(resource: Resource) -> None:
    for ae, variant in (("br", "br"), ("gzip", "gzip"), ("identity", "identity")):
        plan = respond(resource, "GET", {"accept-encoding": ae})
        expected = next(v for v in resource.variants if v.encoding == variant)
        assert header(plan, "content-length") == str(expected.size)
        assert len(body_bytes(plan)) == expected.size


# -- conditional requests -------------------------------------------------------


def etag(resource: Resource, encoding: str = "identity") -> str:
    return next(v.etag for v in resource.variants if v.encoding == encoding)


def test_if_none_match_with_the_current_etag_is_304(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-none-match": etag(resource)})
    assert plan.status == 304
    assert plan.body == b""


def test_304_carries_validators_and_caching_headers(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-none-match": etag(resource)})
    names = {k.decode() for k, _ in plan.headers}
    assert {"etag", "cache-control", "vary", "last-modified"} <= names
    assert "content-length" not in names and "content-type" not in names


def test_if_none_match_uses_weak_comparison(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-none-match": "W/" + etag(resource)})
    assert plan.status == 304


def test_if_none_match_list_with_the_etag_is_304(resource: Resource) -> None:
    value = f'"nope", W/"other", {etag(resource)}'
    assert respond(resource, "GET", {"if-none-match": value}).status == 304


def test_if_none_match_star_is_304(resource: Resource) -> None:
    assert respond(resource, "HEAD", {"if-none-match": "*"}).status == 304


def test_if_none_match_of_another_encoding_is_a_200(resource: Resource) -> None:
    plan = respond(
        resource, "GET", {"if-none-match": etag(resource, "gzip"), "accept-encoding": "br"}
    )
    assert plan.status == 200


def test_if_none_match_of_the_negotiated_encoding_is_304(resource: Resource) -> None:
    headers = {"if-none-match": etag(resource, "br"), "accept-encoding": "br, gzip"}
    plan = respond(resource, "GET", headers)
    assert plan.status == 304 and header(plan, "etag") == etag(resource, "br")


def test_if_none_match_mismatch_is_200(resource: Resource) -> None:
    assert respond(resource, "GET", {"if-none-match": '"other"'}).status == 200


def test_if_modified_since_not_modified_is_304(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-modified-since": formatdate(MTIME + 10, usegmt=True)})
    assert plan.status == 304


def test_if_modified_since_exact_last_modified_is_304(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-modified-since": resource.last_modified})
    assert plan.status == 304


def test_if_modified_since_older_is_200(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-modified-since": formatdate(MTIME - 10, usegmt=True)})
    assert plan.status == 200


def test_if_modified_since_is_ignored_when_if_none_match_is_present(resource: Resource) -> None:
    headers = {"if-none-match": '"other"', "if-modified-since": resource.last_modified}
    assert respond(resource, "GET", headers).status == 200


def undated_resource(directory: Path) -> Resource:
    """A file whose mtime is a normalised one (1: Nix), so it has no Last-Modified."""
    path = directory / "app.css"
    path.write_bytes(CONTENT)
    os.utime(path, (1, 1))
    return load_resource("/static/app.css", str(path), (), Config())


def test_no_last_modified_when_the_mtime_is_not_meaningful(tmp_path: Path) -> None:
    resource = undated_resource(tmp_path)
    for plan in (respond(resource, "GET", {}), respond(resource, "HEAD", {})):
        assert header(plan, "last-modified") is None and header(plan, "etag")
    plan = respond(resource, "GET", {"if-none-match": resource.identity.etag})
    assert plan.status == 304 and header(plan, "last-modified") is None


@pytest.mark.parametrize("date", [formatdate(1, usegmt=True), formatdate(2e9, usegmt=True)])
def test_if_modified_since_is_ignored_without_last_modified(tmp_path: Path, date: str) -> None:
    # RFC 9110 13.1.3: no modification date, no 304 by date (it could be stale).
    assert respond(undated_resource(tmp_path), "GET", {"if-modified-since": date}).status == 200


def test_if_unmodified_since_is_ignored_without_last_modified(tmp_path: Path) -> None:
    headers = {"if-unmodified-since": formatdate(0, usegmt=True)}
    assert respond(undated_resource(tmp_path), "GET", headers).status == 200


def test_if_range_date_never_matches_without_last_modified(tmp_path: Path) -> None:
    headers = {"range": "bytes=0-9", "if-range": formatdate(1, usegmt=True)}
    assert respond(undated_resource(tmp_path), "GET", headers).status == 200


@pytest.mark.parametrize("value", ["yesterday", "", "Sun, 32 Nov 2026 99:00:00 GMT", "0", "-1"])
def test_invalid_if_modified_since_is_ignored(resource: Resource, value: str) -> None:
    assert respond(resource, "GET", {"if-modified-since": value}).status == 200


def test_if_match_mismatch_is_412(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-match": '"other"'})
    assert plan.status == 412 and plan.body == b""


def test_if_match_current_etag_is_200(resource: Resource) -> None:
    assert respond(resource, "GET", {"if-match": etag(resource)}).status == 200


def test_if_match_uses_strong_comparison(resource: Resource) -> None:
    assert respond(resource, "GET", {"if-match": "W/" + etag(resource)}).status == 412


def test_if_match_star_is_200(resource: Resource) -> None:
    assert respond(resource, "GET", {"if-match": "*"}).status == 200


def test_if_unmodified_since_before_last_modified_is_412(resource: Resource) -> None:
    value = formatdate(MTIME - 10, usegmt=True)
    assert respond(resource, "GET", {"if-unmodified-since": value}).status == 412


def test_if_unmodified_since_is_ignored_when_if_match_is_present(resource: Resource) -> None:
    headers = {
        "if-match": etag(resource),
        "if-unmodified-since": formatdate(MTIME - 10, usegmt=True),
    }
    assert respond(resource, "GET", headers).status == 200


def test_if_match_is_evaluated_before_if_none_match(resource: Resource) -> None:
    headers = {"if-match": '"other"', "if-none-match": etag(resource)}
    assert respond(resource, "GET", headers).status == 412


def test_a_304_wins_over_a_range(resource: Resource) -> None:
    headers = {"if-none-match": etag(resource), "range": "bytes=0-9"}
    assert respond(resource, "GET", headers).status == 304


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ],
)
def test_the_three_http_date_formats_parse(value: str) -> None:
    assert parse_http_date(value) == 784111777


@pytest.mark.parametrize("value", ["Sun, 06 Nov 1994 08:49:37 PST", "06 Nov 1994", "x" * 10000])
def test_other_dates_do_not_parse(value: str) -> None:
    assert parse_http_date(value) is None


def test_etag_list_with_commas_inside_tags() -> None:
    assert parse_etag_list('"a,b", W/"c"') == [(False, '"a,b"'), (True, '"c"')]


def test_malformed_etag_list_is_none() -> None:
    assert parse_etag_list('"unterminated') is None


def test_if_none_match_list_with_our_tag_and_a_malformed_member_is_200(
    resource: Resource,
) -> None:
    # RFC 9110 13.1.2: a list that is not a list of entity-tags matches nothing.
    value = f'{etag(resource)}, unquoted, "other"'
    assert respond(resource, "GET", {"if-none-match": value}).status == 200


def test_if_match_list_with_our_tag_only_weak_is_412(resource: Resource) -> None:
    value = f'"other", W/{etag(resource)}, W/{etag(resource)}'
    assert respond(resource, "GET", {"if-match": value}).status == 412


def test_if_match_list_with_our_tag_weak_and_strong_is_200(resource: Resource) -> None:
    value = f'W/{etag(resource)}, "other", {etag(resource)}'
    assert respond(resource, "GET", {"if-match": value}).status == 200


def test_if_none_match_list_longer_than_the_bound_matches_nothing(resource: Resource) -> None:
    tag = etag(resource)
    fits = '"x", ' * ((ETAG_LIST_MAX - len(tag)) // 5) + tag
    too_long = '"x", ' + fits
    assert len(fits) <= ETAG_LIST_MAX < len(too_long)
    assert respond(resource, "GET", {"if-none-match": fits}).status == 304
    assert respond(resource, "GET", {"if-none-match": too_long}).status == 200


_LIST_PIECES = ['"', "W/", " ", "\t", ",", "a", "\n", "\xa0", "/", '"x"', 'W/"y"', "\x7f", "*"]


@given(st.lists(st.sampled_from(_LIST_PIECES), max_size=12).map("".join))
def test_the_list_grammar_accepts_exactly_what_parse_etag_list_parses(value: str) -> None:
    # _etag_list_matches vets a list with one regex; it must be this grammar.
    if value.strip() != "*":
        assert (_ETAG_LIST.fullmatch(value) is not None) == (parse_etag_list(value) is not None)


# -- ranges ---------------------------------------------------------------------


def content_range(plan: Plan) -> str | None:
    return header(plan, "content-range")


def test_single_range_is_206_with_content_range(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=10-19"})
    assert plan.status == 206
    assert content_range(plan) == f"bytes 10-19/{len(CONTENT)}"
    assert header(plan, "content-length") == "10"
    assert body_bytes(plan) == CONTENT[10:20]


def test_suffix_range_is_the_last_bytes(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=-500"})
    assert body_bytes(plan) == CONTENT[-500:]
    assert content_range(plan) == f"bytes {len(CONTENT) - 500}-{len(CONTENT) - 1}/{len(CONTENT)}"


def test_open_range_runs_to_the_end(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=500-"})
    assert body_bytes(plan) == CONTENT[500:]


def test_last_byte_range(resource: Resource) -> None:
    size = len(CONTENT)
    plan = respond(resource, "GET", {"range": f"bytes={size - 1}-{size - 1}"})
    assert body_bytes(plan) == CONTENT[-1:]


def test_range_end_is_clamped_to_the_size(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=100-99999999"})
    assert body_bytes(plan) == CONTENT[100:]
    assert content_range(plan) == f"bytes 100-{len(CONTENT) - 1}/{len(CONTENT)}"


def test_suffix_longer_than_the_file_is_the_whole_file_as_200(resource: Resource) -> None:
    assert respond(resource, "GET", {"range": "bytes=-99999999"}).status == 200


def test_unsatisfiable_range_is_416(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": f"bytes={len(CONTENT)}-"})
    assert plan.status == 416
    assert content_range(plan) == f"bytes */{len(CONTENT)}"
    assert plan.body == b""


def test_zero_suffix_is_unsatisfiable(resource: Resource) -> None:
    assert respond(resource, "GET", {"range": "bytes=-0"}).status == 416


@pytest.mark.parametrize(
    "value",
    ["bytes=abc", "bytes=5-1", "items=0-1", "bytes", "bytes=", "bytes=--1", "bytes=1-2-3",
     "bytes=0x10-20", "bytes=\u0661-\u0662", "bytes=0-1, bytes=2-3"],
)  # fmt: skip
def test_malformed_range_is_ignored(resource: Resource, value: str) -> None:
    plan = respond(resource, "GET", {"range": value})
    assert plan.status == 200
    assert body_bytes(plan) == CONTENT


def test_range_is_served_from_identity_even_when_br_is_accepted(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9", "accept-encoding": "br, gzip"})
    assert plan.status == 206
    assert header(plan, "content-encoding") is None
    assert header(plan, "etag") == etag(resource)
    assert body_bytes(plan) == CONTENT[:10]


def test_range_is_ignored_when_identity_is_refused(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9", "accept-encoding": "br, identity;q=0"})
    assert plan.status == 200 and header(plan, "content-encoding") == "br"


def test_multiple_ranges_are_multipart_byteranges(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-4, 100-104"})
    assert plan.status == 206
    content_type = header(plan, "content-type")
    assert content_type is not None and content_type.startswith("multipart/byteranges; boundary=")
    boundary = content_type.split("boundary=")[1]
    body = body_bytes(plan)
    assert header(plan, "content-length") == str(len(body))
    size = len(CONTENT)
    expected = (
        f"--{boundary}\r\nContent-Type: text/css; charset=utf-8\r\n"
        f"Content-Range: bytes 0-4/{size}\r\n\r\n".encode()
        + CONTENT[0:5]
        + f"\r\n--{boundary}\r\nContent-Type: text/css; charset=utf-8\r\n"
        f"Content-Range: bytes 100-104/{size}\r\n\r\n".encode()
        + CONTENT[100:105]
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert body == expected


def test_overlapping_ranges_are_coalesced(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9, 5-19"})
    assert plan.status == 206 and content_range(plan) == f"bytes 0-19/{len(CONTENT)}"


def test_too_many_ranges_serve_the_whole_file(resource: Resource) -> None:
    value = "bytes=" + ", ".join(f"{i * 10}-{i * 10 + 1}" for i in range(33))
    plan = respond(resource, "GET", {"range": value}, max_ranges=32)
    assert plan.status == 200 and body_bytes(plan) == CONTENT


def test_unsatisfiable_ranges_among_satisfiable_ones_are_dropped(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": f"bytes=0-1, {len(CONTENT) + 5}-"})
    assert plan.status == 206 and body_bytes(plan) == CONTENT[:2]


def test_range_on_an_empty_file_is_ignored(tmp_path: Path) -> None:
    res = make_resource(tmp_path, content=b"", encodings=())
    assert respond(res, "GET", {"range": "bytes=0-1"}).status == 200


def test_huge_numbers_do_not_overflow(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=" + "9" * 5000 + "-"})
    assert plan.status == 416


def test_if_range_with_current_etag_applies_the_range(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9", "if-range": etag(resource)})
    assert plan.status == 206


def test_if_range_with_old_etag_sends_the_whole_file(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9", "if-range": '"old"'})
    assert plan.status == 200 and body_bytes(plan) == CONTENT


def test_if_range_with_weak_etag_sends_the_whole_file(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9", "if-range": "W/" + etag(resource)})
    assert plan.status == 200


def test_if_range_with_the_exact_date_applies_the_range(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": "bytes=0-9", "if-range": resource.last_modified})
    assert plan.status == 206


def test_if_range_with_another_date_sends_the_whole_file(resource: Resource) -> None:
    value = formatdate(MTIME + 100, usegmt=True)
    assert respond(resource, "GET", {"range": "bytes=0-9", "if-range": value}).status == 200


def test_in_memory_ranges_are_sliced_bytes(tmp_path: Path) -> None:
    res = make_resource(tmp_path, in_memory=True)
    plan = respond(res, "GET", {"range": "bytes=3-7"})
    assert plan.body == CONTENT[3:8]


sizes = st.integers(min_value=1, max_value=10_000)


@given(size=sizes, first=st.integers(0, 20_000), last=st.integers(0, 20_000))
def test_parsed_ranges_lie_inside_the_file(size: int, first: int, last: int) -> None:
    ranges = parse_range(f"bytes={first}-{last}", size, 32)
    if last < first:
        assert ranges is None
    elif first >= size:
        assert ranges == []
    else:
        assert ranges == [(first, min(last, size - 1))]


@given(size=sizes, suffix=st.integers(1, 20_000))
def test_suffix_ranges_cover_the_tail(size: int, suffix: int) -> None:
    assert parse_range(f"bytes=-{suffix}", size, 32) == [(max(0, size - suffix), size - 1)]


@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=1, max_size=20))
def test_coalesced_ranges_are_disjoint_sorted_and_cover_the_same_bytes(
    pairs: list[tuple[int, int]],
) -> None:
    ranges = [(min(a, b), max(a, b)) for a, b in pairs]
    merged = coalesce(ranges)
    covered = {i for a, b in ranges for i in range(a, b + 1)}
    assert {i for a, b in merged for i in range(a, b + 1)} == covered
    assert all(merged[i][1] + 1 < merged[i + 1][0] for i in range(len(merged) - 1))


@given(st.text(max_size=300))
def test_any_range_header_gives_a_consistent_plan(value: str) -> None:
    plan = respond(_SHARED_RESOURCE, "GET", {"range": value})
    assert plan.status in (200, 206, 416)
    length = int(header(plan, "content-length") or -1)
    assert length == len(body_bytes(plan))


# -- redirects ------------------------------------------------------------------


def test_redirect_is_302_to_a_relative_location_keeping_the_query() -> None:
    plan = respond(Redirect("docs/"), "GET", {}, query="a=1&b=2")
    assert plan.status == 302
    assert header(plan, "location") == "docs/?a=1&b=2"


def test_redirect_location_is_percent_encoded() -> None:
    assert header(respond(Redirect("été/"), "GET", {}), "location") == "%C3%A9t%C3%A9/"


def _shared_resource() -> Resource:
    import tempfile

    directory = Path(tempfile.mkdtemp(prefix="staticserve-http-"))
    return make_resource(directory)


_SHARED_RESOURCE = _shared_resource()


# -- error answers are never cached (miss_cache_control) -------------------------


def test_error_plans_carry_no_store_by_default() -> None:
    errors = ErrorPlans()
    assert errors.not_found.status == 404
    assert header(errors.not_found, "cache-control") == "no-store"
    assert header(errors.not_found, "content-length") == "9"
    assert header(errors.method_not_allowed, "cache-control") == "no-store"


def test_error_plans_without_cache_control_send_no_header() -> None:
    errors = ErrorPlans(None)
    assert header(errors.not_found, "cache-control") is None
    assert header(errors.method_not_allowed, "cache-control") is None


def test_405_carries_the_configured_miss_cache_control(resource: Resource) -> None:
    plan = respond(resource, "POST", {}, errors=ErrorPlans("public, max-age=10"))
    assert plan.status == 405
    assert header(plan, "cache-control") == "public, max-age=10"


def test_405_is_one_prebuilt_plan_not_built_per_request(resource: Resource) -> None:
    errors = ErrorPlans()
    assert respond(resource, "POST", {}, errors=errors) is errors.method_not_allowed


def test_412_carries_the_miss_cache_control(resource: Resource) -> None:
    plan = respond(resource, "GET", {"if-match": '"other"'}, errors=ErrorPlans())
    assert plan.status == 412
    assert header(plan, "cache-control") == "no-store"
    assert header(plan, "etag") == etag(resource)


def test_416_carries_the_miss_cache_control(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": f"bytes={len(CONTENT)}-"}, errors=ErrorPlans())
    assert plan.status == 416
    assert header(plan, "cache-control") == "no-store"
    assert content_range(plan) == f"bytes */{len(CONTENT)}"


def test_416_without_miss_cache_control_sends_none(resource: Resource) -> None:
    plan = respond(resource, "GET", {"range": f"bytes={len(CONTENT)}-"}, errors=ErrorPlans(None))
    assert header(plan, "cache-control") is None


def test_success_keeps_the_file_cache_control(resource: Resource) -> None:
    plan = respond(resource, "GET", {}, errors=ErrorPlans("no-store"))
    assert plan.status == 200
    assert header(plan, "cache-control") == "public, max-age=60"


@pytest.mark.parametrize(
    ("status", "names", "marked"),
    [
        (404, [b"content-type"], True),
        (500, [], True),
        (404, [b"Cache-Control"], False),
        (200, [b"content-type"], False),
        (304, [], False),
        ("404 Not Found", ["Content-Type"], True),
        ("503 Service Unavailable", ["CACHE-CONTROL"], False),
        ("302 Found", [], False),
    ],
)
def test_marks_miss_only_for_an_error_without_its_own_cache_control(
    status: int | str, names: list[str | bytes], marked: bool
) -> None:
    assert marks_miss(status, names) is marked
