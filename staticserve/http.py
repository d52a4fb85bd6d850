"""HTTP semantics, sans-IO: (entry, method, request headers) → Plan.

This is the only module that knows HTTP rules. It does no I/O: adapters look
the entry up in the index, collect the request headers named in
:data:`REQUEST_HEADERS`, call :func:`respond` and send the plan.

Choices the RFCs leave open, made once here:

* No ``Accept-Encoding`` header means identity (RFC 9110 12.5.3 would allow any
  coding; ``curl`` and friends expect plain bytes). When no acceptable coding
  exists at all (``identity;q=0`` and nothing else we have), the header is
  disregarded and identity is sent rather than a 406 (RFC 9110 12.5.3).
* Among acceptable codings the smallest variant wins; equal sizes go to the
  client's first-listed coding.
* A ``Range`` request is served from the identity representation whenever
  identity is acceptable, so a partial body can always be decoded and resumed
  regardless of the compressor used to build a sibling. If identity is not
  acceptable the range is ignored and the negotiated variant sent in full.
* Ranges on an empty file are ignored (200). More than ``max_ranges`` ranges in
  one request, or a malformed ``Range``, are ignored (200). Overlapping and
  adjacent ranges are coalesced; one range left → a plain 206.
* ``If-Range`` with a date matches only the exact ``Last-Modified`` value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import quote

from .plan import FileSlice, Multipart, Plan
from .resource import Redirect, Resource, Variant
from .speedups import kept_accept

# The request headers respond() reads, lower-case. Adapters pass only these.
REQUEST_HEADERS = (
    "accept-encoding",
    "range",
    "if-range",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
)
#: The request headers only the general :func:`respond` handles: a range and
#: the preconditions other than a revalidation (``If-Range`` counts only
#: beside a ``Range``). Without them, adapters may take the fast path
#: (:func:`respond_plain`). The adapters test these three names one by one:
#: three dict lookups cost less than any set operation over a WSGI environ.
COMPLEX_HEADERS = ("range", "if-match", "if-unmodified-since")

_ALLOW = (b"allow", b"GET, HEAD")
_EMPTY = (b"content-length", b"0")


def marks_miss(status: int | str, header_names: Iterable[str | bytes]) -> bool:
    """Whether the wrapped app's answer for a static URL gets the miss header.

    :attr:`ErrorPlans.header` (``Cache-Control: no-store`` by default) goes on
    an error, a status code of 400 or more or a WSGI status line starting 4 or
    5, that sets no ``Cache-Control`` of its own (the app's choice stands).
    """
    if not (status[:1] in ("4", "5") if isinstance(status, str) else status >= 400):
        return False
    return all(name.lower() not in _CACHE_CONTROL for name in header_names)


_CACHE_CONTROL = (b"cache-control", "cache-control")


class ErrorPlans:
    """The error answers under a static prefix, built once per ``miss_cache_control``.

    Every error carries :attr:`header` (``Cache-Control: no-store`` by default)
    so that a shared cache never stores a miss: during a rolling deploy a 404
    is often a file another replica already has, and a stored 404 would keep
    that asset broken after the deploy is over. The 404 and 405 plans are
    complete here; 412 and 416 (whose headers name the file) add ``header``.
    """

    __slots__ = ("header", "method_not_allowed", "not_found")

    def __init__(self, cache_control: str | None = "no-store") -> None:
        #: () or ((b"cache-control", value),): spliced into every error plan.
        self.header: tuple[tuple[bytes, bytes], ...] = (
            ((b"cache-control", cache_control.encode("latin-1")),) if cache_control else ()
        )
        self.not_found = Plan(
            404,
            (
                (b"content-type", b"text/plain; charset=utf-8"),
                *self.header,
                (b"content-length", b"9"),
            ),
            b"Not Found",
        )
        self.method_not_allowed = Plan(405, (_ALLOW, *self.header, _EMPTY), b"")


DEFAULT_ERRORS = ErrorPlans()
NOT_FOUND = DEFAULT_ERRORS.not_found


def respond(
    entry: Resource | Redirect,
    method: str,
    headers: Mapping[str, str],
    query: str = "",
    max_ranges: int = 32,
    errors: ErrorPlans = DEFAULT_ERRORS,
) -> Plan:
    """Plan the response to ``method`` on ``entry`` given the request headers.

    ``errors`` holds the precomputed error answers for the configured
    ``miss_cache_control`` (:class:`ErrorPlans`).
    """
    if method != "GET" and method != "HEAD":
        return errors.method_not_allowed
    if entry.__class__ is Redirect:
        return _redirect(entry, query)
    resource: Resource = entry  # type: ignore[assignment]
    head = method == "HEAD"

    range_header = headers.get("range") if not head else None
    variant = None
    if range_header is not None and resource.encoded:
        if _acceptable_codings(headers.get("accept-encoding"))[1]:
            variant = resource.identity
        else:
            range_header = None  # identity refused: send the negotiated variant whole
    if variant is None:
        variant = select_variant(resource, headers.get("accept-encoding"))

    if len(headers) > (1 if "accept-encoding" in headers else 0):
        precondition = _evaluate_preconditions(resource, variant, headers, errors)
        if precondition is not None:
            return precondition
        if range_header is not None:
            if_range = headers.get("if-range")
            if if_range is None or _if_range_matches(if_range, resource, variant):
                ranged = _ranges(variant, range_header, max_ranges, errors)
                if ranged is not None:
                    return ranged
    if head:
        return variant.plan_head or variant.head_plan()
    return variant.plan_get


def respond_plain(
    resource: Resource,
    method: str,
    accept_encoding: str | bytes | None,
    if_none_match: str | None = None,
    if_modified_since: str | bytes | None = None,
) -> Plan | Literal[False]:
    """:func:`respond` for a request without any of :data:`COMPLEX_HEADERS`.

    The per-request fast path: one cached negotiation, then a prebuilt plan,
    the 304 when ``If-None-Match`` is exactly the chosen variant's tag (what a
    browser revalidating sends; ``If-Modified-Since`` beside it does not
    count, RFC 9110 13.1.3). False when ``If-None-Match`` is anything else: a
    list or a weak tag is for :func:`respond`, and so are an
    ``If-Modified-Since`` without ``If-None-Match`` (a date to compare) and a
    method other than GET or HEAD. The caller has checked the headers. Header values may be the
    raw latin-1 ``bytes`` an ASGI server hands over (``Accept-Encoding``;
    ``If-None-Match`` is decoded by the caller).
    """
    if method != "GET" and method != "HEAD":
        return False
    try:  # select_variant's cache, inlined
        variant = resource.variants[resource.negotiated[accept_encoding]]
    except KeyError:
        variant = select_variant(resource, accept_encoding)
    if if_none_match is not None:
        if if_none_match != variant.etag:
            return False
        return variant.plan_not_modified or variant.not_modified_plan()
    if if_modified_since is not None:
        return False
    if method == "HEAD":
        return variant.plan_head or variant.head_plan()
    return variant.plan_get


# -- negotiation (RFC 9110 12.5.3) ------------------------------------------

_QVALUE = re.compile(r"(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\Z")
_ALIASES = {"x-gzip": "gzip"}
# Parsed Accept-Encoding values; browsers send a handful of distinct strings.
_accept_cache: dict[str | None, tuple[dict[str, tuple[float, int]], bool]] = {}
_ACCEPT_CACHE_MAX = 512
_ACCEPT_MAX = 4096


def parse_accept_encoding(value: str) -> dict[str, tuple[float, int]]:
    """``Accept-Encoding`` → {coding: (q, position)}; malformed members ignored."""
    result: dict[str, tuple[float, int]] = {}
    for position, member in enumerate(value.split(",")):
        coding, _, params = member.partition(";")
        coding = coding.strip().lower()
        if not coding or not _is_token(coding):
            continue
        q = 1.0
        if params:
            name, _, raw = params.partition("=")
            raw = raw.strip()
            if name.strip().lower() != "q" or not _QVALUE.match(raw):
                continue
            q = float(raw)
        coding = _ALIASES.get(coding, coding)
        if coding not in result:  # the first mention of a coding counts
            result[coding] = (q, position)
    return result


def _acceptable_codings(value: str | None) -> tuple[dict[str, tuple[float, int]], bool]:
    """(parsed preferences, identity acceptable), cached by header value."""
    if value is not None and len(value) > _ACCEPT_MAX:
        # Only the first 4 KiB count; truncating before the lookup also keeps
        # the cache's keys small (uvicorn passes megabyte headers through).
        value = value[:_ACCEPT_MAX]
    cached = _accept_cache.get(value)
    if cached is not None:
        return cached
    if value is None:
        prefs: dict[str, tuple[float, int]] = {}
        identity_ok = True
    else:
        prefs = parse_accept_encoding(value)
        identity = prefs.get("identity", prefs.get("*"))
        identity_ok = identity is None or identity[0] > 0
    if len(_accept_cache) >= _ACCEPT_CACHE_MAX:
        _accept_cache.clear()
    result = (prefs, identity_ok)
    _accept_cache[value] = result
    return result


def select_variant(resource: Resource, accept_encoding: str | bytes | None) -> Variant:
    """The smallest variant the client accepts (identity if none other).

    ``accept_encoding`` is the header's ``str`` value, or its raw latin-1
    ``bytes`` (ASGI): both forms are remembered, each under its own key.
    """
    # Clients send a handful of distinct values: remember each one's answer
    # (as an index into ``variants``, in a table shared by same-shaped
    # resources; no header at all is the key None). A subscript in a try is
    # cheaper than .get() on this per-request path.
    try:
        return resource.variants[resource.negotiated[accept_encoding]]
    except KeyError:
        pass
    if not resource.encoded or accept_encoding is None:
        position = len(resource.encoded)  # identity, always last
    else:
        text = (
            accept_encoding.decode("latin-1")
            if isinstance(accept_encoding, bytes)
            else accept_encoding
        )
        position = resource.variants.index(_negotiate(resource, text))
    # Never retain hostile giants.
    if accept_encoding is None or len(accept_encoding) <= _NEGOTIATED_KEY_MAX:
        _remember(resource.negotiated, accept_encoding, position)
    return resource.variants[position]


def _remember(table: dict[str | bytes | None, int], key: str | bytes | None, position: int) -> None:
    """``table[key] = position``, keyed so that the fast path's lookups meet their key first."""
    if len(table) >= _NEGOTIATED_MAX:
        table.clear()
    # The C path's own object for this value, which its lookup meets by identity.
    table[kept_accept(key)] = position
    if isinstance(key, bytes) and key.decode("latin-1") in table:
        # An ASGI value's raw bytes and the general path's str of the same
        # text hash alike, and a lookup meets whichever was stored first:
        # the bytes (what the fast path looks up) go first, so that it never
        # compares with the str (about 170 instructions a request).
        entries = sorted(table.items(), key=lambda entry: entry[0].__class__ is not bytes)
        table.clear()
        table.update(entries)


_NEGOTIATED_MAX = 64
_NEGOTIATED_KEY_MAX = 256


def _negotiate(resource: Resource, accept_encoding: str) -> Variant:
    prefs = _acceptable_codings(accept_encoding)[0]
    star = prefs.get("*")
    best = None
    best_position = 0
    for variant in resource.encoded:  # smallest first
        pref = prefs.get(variant.encoding, star)
        if pref is None or pref[0] <= 0:
            continue
        if best is None or (variant.size == best.size and pref[1] < best_position):
            best, best_position = variant, pref[1]
        else:
            break
    return best or resource.identity


_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


def _is_token(value: str) -> bool:
    return all(c in _TOKEN_CHARS for c in value)


# -- conditional requests (RFC 9110 13.2.2) ---------------------------------


def _evaluate_preconditions(
    resource: Resource, variant: Variant, headers: Mapping[str, str], errors: ErrorPlans
) -> Plan | None:
    if_match = headers.get("if-match")
    if if_match is not None:
        if not _etag_list_matches(if_match, variant.etag, strong=True):
            return _precondition_failed(variant, errors)
    else:
        if_unmodified_since = headers.get("if-unmodified-since")
        if if_unmodified_since is not None:
            date = parse_http_date(if_unmodified_since)
            modified = resource.last_modified_epoch
            if date is not None and modified is not None and modified > date:
                return _precondition_failed(variant, errors)
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match == variant.etag or _etag_list_matches(
            if_none_match, variant.etag, strong=False
        ):
            # (Only GET and HEAD reach here.)
            return variant.plan_not_modified or variant.not_modified_plan()
        return None
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since is not None and resource.last_modified is not None:
        # (No Last-Modified: the date is ignored, RFC 9110 13.1.3.)
        if if_modified_since == resource.last_modified:
            return variant.plan_not_modified or variant.not_modified_plan()
        date = parse_http_date(if_modified_since)
        if date is not None and resource.last_modified_epoch <= date:  # type: ignore[operator]
            return variant.plan_not_modified or variant.not_modified_plan()
    return None


def _precondition_failed(variant: Variant, errors: ErrorPlans) -> Plan:
    return Plan(412, ((b"etag", variant.etag.encode("latin-1")), *errors.header, _EMPTY), b"")


_ENTITY_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|\Z)')


def parse_etag_list(value: str) -> list[tuple[bool, str]] | None:
    """``If-Match`` / ``If-None-Match`` → [(weak, '"opaque"')]; ``*`` → []; None if malformed."""
    if value.strip() == "*":
        return []
    tags: list[tuple[bool, str]] = []
    position, end = 0, len(value)
    while position < end:
        if value[position] in " \t,":
            position += 1
            continue
        match = _ENTITY_TAG.match(value, position)
        if match is None:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return tags


# An If-Match / If-None-Match list longer than this is not evaluated: it
# matches nothing (If-None-Match: the full 200; If-Match: 412). Real lists hold
# a handful of tags, but a cache revalidating many stored variants can send
# thousands (10,000 short tags are ~90 KB); the vetting regex is linear and
# C-speed, so the bound only keeps hostile megabytes out.
ETAG_LIST_MAX = 128 * 1024
# The whole of parse_etag_list's grammar as one regex, so a list is vetted at C
# speed, not in a Python step per member. Unambiguous (a member starts only
# where a separator does not), so a failing match backtracks linearly.
_ETAG_LIST = re.compile(
    r'[ \t,]*(?:(?=[^ \t,])\s*(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"\s*(?:,|\Z)[ \t,]*)*'
)


def _etag_list_matches(value: str, etag: str, strong: bool) -> bool:
    if etag not in value:
        # No member can equal our tag (well-formed or not): one C-speed scan
        # instead of a Python step per member of a list of thousands.
        return value.strip() == "*"  # "*": any current representation
    if len(value) > ETAG_LIST_MAX or _ETAG_LIST.fullmatch(value) is None:
        return False  # RFC 9110 13.1.2: a malformed list matches nothing
    # In a well-formed list every occurrence of our tag is a whole member (a
    # quote opens a tag unless it closes one, and a closing quote is followed
    # by a separator, which our tags' opaque part never starts with).
    if not strong:
        return True
    # Our tags are all strong, so a strong match only needs a member not W/.
    return value.count(etag) > value.count("W/" + etag)


def _if_range_matches(value: str, resource: Resource, variant: Variant) -> bool:
    value = value.strip()
    if value.startswith('"'):
        return value == variant.etag
    if value.startswith("W/"):
        return False  # If-Range needs a strong validator
    return resource.last_modified is not None and value == resource.last_modified


_IMF_FIXDATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" \d{4} \d\d:\d\d:\d\d GMT\Z"
)
_RFC850 = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d\d-"
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d\d \d\d:\d\d:\d\d GMT\Z"
)
_ASCTIME = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
    r" [ \d]\d \d\d:\d\d:\d\d \d{4}\Z"
)


def parse_http_date(value: str) -> int | None:
    """An HTTP-date (IMF-fixdate, RFC 850 or asctime) → Unix seconds, or None."""
    value = value.strip()
    if len(value) > 40 or not (
        _IMF_FIXDATE.match(value) or _RFC850.match(value) or _ASCTIME.match(value)
    ):
        return None
    try:
        return int(parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError, OverflowError, IndexError):
        return None


# -- ranges (RFC 9110 14) ----------------------------------------------------

_MAX_DIGITS = 18  # beyond any file size; longer numbers are clamped, not parsed


def parse_range(value: str, size: int, max_ranges: int) -> list[tuple[int, int]] | None:
    """``Range`` → satisfiable [(first, last)] inclusive, in request order.

    Returns None when the header must be ignored (malformed, not bytes, too
    many ranges) and [] when it is well-formed but nothing is satisfiable.
    """
    unit, sep, spec = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    ranges: list[tuple[int, int]] = []
    count = 0
    # Bounded split: a megabyte of members is not cut into a million strings.
    # Past the bound, the rest stays in one member, which fails as malformed.
    for member in spec.split(",", 2 * max_ranges + 8):
        member = member.strip(" \t")
        if not member:
            continue
        count += 1
        if count > max_ranges:
            return None
        first_s, dash, last_s = member.partition("-")
        if (
            not dash
            or not (first_s.isdigit() or first_s == "")
            or not (last_s.isdigit() or last_s == "")
        ):
            return None
        if not first_s.isascii() or not last_s.isascii():
            return None  # str.isdigit accepts other scripts' digits
        if first_s == "":
            if last_s == "":
                return None
            suffix = _to_int(last_s)
            if suffix == 0 or size == 0:
                continue  # unsatisfiable suffix (or nothing to take it from)
            ranges.append((max(0, size - suffix), size - 1))
            continue
        first = _to_int(first_s)
        last = _to_int(last_s) if last_s else None
        if last is not None and last < first:
            return None
        if first < size:
            ranges.append((first, size - 1 if last is None else min(last, size - 1)))
    if count == 0:
        return None
    return ranges


def _to_int(digits: str) -> int:
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


def coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping and adjacent ranges (sorted by start)."""
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            if last > merged[-1][1]:
                merged[-1] = (merged[-1][0], last)
        else:
            merged.append((first, last))
    return merged


def _ranges(variant: Variant, value: str, max_ranges: int, errors: ErrorPlans) -> Plan | None:
    size = variant.size
    if size == 0:
        return None
    ranges = parse_range(value, size, max_ranges)
    if ranges is None:
        return None
    if not ranges:
        return Plan(
            416,
            ((b"content-range", f"bytes */{size}".encode("latin-1")), *errors.header, _EMPTY),
            b"",
        )
    ranges = coalesce(ranges)
    if len(ranges) == 1:
        first, last = ranges[0]
        if first == 0 and last == size - 1:
            return None  # the whole file: a plain 200 is shorter and cacheable
        return _single_range(variant, first, last)
    return _multipart(variant, ranges)


def _slice(variant: Variant, first: int, last: int) -> bytes | FileSlice:
    if variant.body is not None:
        return variant.body[first : last + 1]
    return FileSlice(variant, first, last - first + 1)


def _single_range(variant: Variant, first: int, last: int) -> Plan:
    headers = (
        *variant.base_headers,
        (b"content-range", f"bytes {first}-{last}/{variant.size}".encode("latin-1")),
        (b"content-length", str(last - first + 1).encode("latin-1")),
    )
    return Plan(206, headers, _slice(variant, first, last))


def multipart_boundary(variant: Variant) -> str:
    """Deterministic per representation, so equal requests get equal bytes."""
    return "staticserve-" + hashlib.sha1(variant.etag.encode("latin-1")).hexdigest()[:24]


def _multipart(variant: Variant, ranges: list[tuple[int, int]]) -> Plan:
    boundary = multipart_boundary(variant)
    content_type = variant.resource.content_type
    parts: list[bytes | FileSlice] = []
    for first, last in ranges:
        part_head = (
            f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: bytes {first}-{last}/{variant.size}\r\n\r\n"
        )
        parts.append(part_head.encode("latin-1"))
        parts.append(_slice(variant, first, last))
        parts.append(b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode("latin-1"))
    body = Multipart(tuple(parts))
    dropped = {b"content-type", b"content-encoding"}
    headers = (
        *(h for h in variant.base_headers if h[0] not in dropped),
        (b"content-type", f"multipart/byteranges; boundary={boundary}".encode("latin-1")),
        (b"content-length", str(body.length).encode("latin-1")),
    )
    return Plan(206, headers, body)


# -- redirects -----------------------------------------------------------------


def _redirect(redirect: Redirect, query: str) -> Plan:
    # A relative reference (RFC 9110 10.2.2) keeps any mount point or proxy prefix.
    location = quote(redirect.location) + ("?" + query if query else "")
    return Plan(
        302,
        ((b"location", location.encode("latin-1", "replace")), _EMPTY),
        b"",
    )


# -- SPA fallback: which misses are browser navigations ----------------------

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


def accepts_html(accept: str | None) -> bool:
    """Does ``Accept`` name ``text/html`` (or XHTML) with a q-value above 0?

    Browsers name ``text/html`` first when they navigate. ``*/*`` or
    ``text/*`` alone does not count, on purpose: it is what ``fetch()``,
    ``curl`` and API clients send, and they must get the 404 their request
    deserves, never an HTML page they cannot parse.
    """
    if not accept:
        return False
    for member in accept[:_ACCEPT_MAX].split(","):
        media_type, _, params = member.partition(";")
        if media_type.strip().lower() not in _HTML_TYPES:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                value = value.strip()
                q = float(value) if _QVALUE.match(value) else 0.0
        if q > 0:
            return True
    return False


def is_navigation(method: str, path: str) -> bool:
    """A GET/HEAD whose last path segment has no extension (``/about``, ``/u/42/``).

    ``/assets/missing-ABCD1234.js`` and ``/favicon.ico`` name files: a miss
    there stays a 404 and is never answered with HTML.
    """
    if method != "GET" and method != "HEAD":
        return False
    return "." not in path[path.rfind("/") + 1 :]


def fallback_plan(plan: Plan) -> Plan:
    """The fallback file's plan as the answer at another URL: it varies with ``Accept``."""
    headers = []
    varied = False
    for name, value in plan.headers:
        if name == b"vary":
            value = value + b", Accept"
            varied = True
        headers.append((name, value))
    if not varied:
        headers.append((b"vary", b"Accept"))
    return Plan(plan.status, tuple(headers), plan.body)
