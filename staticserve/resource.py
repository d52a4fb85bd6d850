"""Resource and Variant: everything about one served file, computed once.

A :class:`Resource` is what one URL names; its :class:`Variant` objects are the
representations we can send for it (identity, and ``br`` / ``gzip`` / ``zstd``
siblings). Each variant carries its size, path, strong ETag and the complete
header lists and plans for the common answers (200, HEAD, 304), so the request
path only picks one.

Memory: a worker may build a Resource for every file it ever serves, so each
one is kept small. Header values that most files share (Content-Type,
Cache-Control, Vary, Last-Modified of files built together) are one object for
all of them; the HEAD and 304 plans are built on their first use; the
negotiation cache is shared by every resource with the same variants' shape.
Small files' bytes are held within a :class:`MemoryBudget`, least recently
used dropped first.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat as stat_module
import threading
from collections.abc import Callable
from email.utils import formatdate
from time import monotonic
from typing import Any, TypeVar

from .config import Config
from .headers import HeaderList, checked_pairs
from .media_types import media_type_for
from .plan import FileSlice, Headers, Plan, shared_pair

IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"

# Sibling suffix → Content-Encoding token, in the order siblings are looked for.
SIBLING_ENCODINGS: tuple[tuple[str, str], ...] = (
    (".zst", "zstd"),
    (".br", "br"),
    (".gz", "gzip"),
)
ETAG_SUFFIX = {"zstd": "-zst", "br": "-br", "gzip": "-gz"}
# 1980-01-01T00:00:00Z. An mtime before this carries no information: it is a
# normalised one (Nix sets 1, SOURCE_DATE_EPOCH builds often 0) or a broken
# clock, and zip cannot even store it. Such a file gets no Last-Modified, so
# no client can revalidate it by date (its content ETag still works).
MEANINGFUL_MTIME = 315_532_800
# RFC 9110 15.4.5: a 304 carries the validators and caching fields a 200 would.
_KEPT_ON_304 = frozenset(
    {b"cache-control", b"vary", b"expires", b"content-location", b"etag", b"last-modified"}
)

# Interning: equal header values are one object across all resources. Bounded,
# so per-file values (an add_headers hook's) cannot grow the table for ever;
# past the bound values are simply not shared.
_SHARED_MAX = 4096
_T = TypeVar("_T")
_shared: dict[Any, Any] = {}
_dates: dict[int, tuple[int, str, tuple[bytes, bytes]]] = {}
# Variants' shape (encodings smallest first, equal sizes grouped) → the
# negotiation cache every resource of that shape uses: {Accept-Encoding: index
# into Resource.variants}. A handful of shapes exist on any site.
_negotiation_tables: dict[tuple[tuple[str, int], ...], dict[str | bytes | None, int]] = {}


def _share(value: _T) -> _T:
    """The one shared object equal to ``value`` (``value`` itself past the bound)."""
    found: _T | None = _shared.get(value)
    if found is not None:
        return found
    if len(_shared) < _SHARED_MAX:
        _shared[value] = value
    return value


def _http_date(epoch: int) -> tuple[int, str, tuple[bytes, bytes]]:
    """(epoch, IMF-fixdate, Last-Modified header pair), shared per second."""
    found = _dates.get(epoch)
    if found is None:
        text = formatdate(epoch, usegmt=True)
        found = (epoch, text, shared_pair(b"last-modified", text.encode("latin-1")))
        if len(_dates) < _SHARED_MAX:
            _dates[epoch] = found
    return found


class Variant:
    """One representation of a resource: one file on disk, one encoding."""

    __slots__ = (
        "body",
        "encoding",
        "etag",
        "mtime_ns",
        "path",
        "plan_get",
        "plan_head",
        "plan_not_modified",
        "resource",
        "size",
        "stamp",
    )

    def __init__(
        self, encoding: str, path: str, size: int, mtime_ns: int, etag: str, stamp: int = 0
    ) -> None:
        self.encoding = encoding
        self.path = path
        self.size = size
        self.mtime_ns = mtime_ns
        # The inode and ctime the headers were built from (see stat_stamp).
        self.stamp = stamp
        self.etag = etag
        self.body: bytes | None = None
        self.resource: Resource
        self.plan_get: Plan
        # Built on first use (head_plan / not_modified_plan): most files never
        # see a HEAD, and many never a 304, so they cost nothing until then.
        self.plan_head: Plan | None = None
        self.plan_not_modified: Plan | None = None

    @property
    def base_headers(self) -> Headers:
        """Headers of a 200 without Content-Length (206 responses add their own)."""
        return self.plan_get.headers[:-1]

    def head_plan(self) -> Plan:
        """The HEAD answer: the GET headers, no body."""
        plan = self.plan_head = Plan(200, self.plan_get.headers, b"")
        return plan

    def not_modified_plan(self) -> Plan:
        """The 304 answer: the validators and caching fields of the 200."""
        headers = tuple(h for h in self.plan_get.headers if h[0] in _KEPT_ON_304)
        plan = self.plan_not_modified = Plan(304, headers, b"")
        return plan

    def matches_disk(self) -> bool:
        """Is the file on disk still the one its headers were built from?"""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return self.matches_stat(st)

    def matches_stat(self, st: os.stat_result) -> bool:
        """Does ``st`` (of this variant's path) describe the file its headers were built from?

        Size and mtime, and the inode and ctime: an edit that keeps the size
        and puts the mtime back (``cp -p``, ``rsync -t``, ``touch -d``) still
        moves the ctime, which no tool can set, and a file replaced by a
        rename has another inode.
        """
        return (
            st.st_size == self.size
            and st.st_mtime_ns == self.mtime_ns
            and stat_stamp(st) == self.stamp
        )

    def __repr__(self) -> str:
        return f"<Variant {self.encoding} {self.path!r} {self.size}B {self.etag}>"


class Resource:
    """A URL's file: its identity variant and compressed variants by size."""

    __slots__ = (
        "checked_at",
        "content_type",
        "encoded",
        "identity",
        "immutable",
        "last_modified",
        "last_modified_epoch",
        "negotiated",
        "source",
        "url",
        "variants",
    )

    def __init__(
        self,
        url: str,
        source: tuple[str, tuple[str, ...]],
        identity: Variant,
        encoded: tuple[Variant, ...],
        content_type: str,
        immutable: bool,
    ) -> None:
        self.url = url
        self.source = source
        self.identity = identity
        self.encoded = encoded
        # Every variant, identity last (negotiation caches index into it).
        self.variants = (*encoded, identity)
        self.content_type = _share(content_type)
        self.immutable = immutable
        epoch = identity.mtime_ns // 1_000_000_000
        # None: no Last-Modified, and date preconditions are ignored (RFC 9110 13.1.3-4).
        self.last_modified_epoch: int | None = None
        self.last_modified: str | None = None
        if epoch >= MEANINGFUL_MTIME:
            self.last_modified_epoch, self.last_modified, _ = _http_date(epoch)
        # When the files were last compared with disk (time.monotonic()).
        self.checked_at = monotonic()
        # Accept-Encoding value → index of the chosen variant in ``variants``
        # (filled by http.select_variant); shared by resources of one shape.
        shape = []
        group = 0
        for i, variant in enumerate(encoded):
            if i and variant.size != encoded[i - 1].size:
                group += 1
            shape.append((variant.encoding, group))
        self.negotiated = _negotiation_tables.setdefault(tuple(shape), {})

    def __repr__(self) -> str:
        return f"<Resource {self.url} {[v.encoding for v in self.variants]}>"


class Redirect:
    """``dir`` → ``dir/`` when ``dir/index.html`` is served (``index_file``)."""

    __slots__ = ("location",)

    def __init__(self, location: str) -> None:
        self.location = location


class FileGone(Exception):
    """The file behind an index entry is missing or no longer a regular file."""


def stat_stamp(st: os.stat_result) -> int:
    """Inode and ctime as one int (exact: a ctime in ns fits 64 bits).

    One slot and one int object per variant rather than two of each: this is
    kept for every built file.
    """
    return (st.st_ino << 64) + st.st_ctime_ns


def _stat_regular(path: str) -> os.stat_result:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise FileGone(path) from exc
    if not stat_module.S_ISREG(st.st_mode):
        raise FileGone(path)
    return st


def content_etag(path: str) -> str:
    """The ETag of a file from its bytes, as the build manifest would give it.

    The first 27 characters of the SHA-384 digest in base64, i.e. the same tag
    a staticserve manifest's ``integrity`` yields, so a file has one ETag with
    or without a manifest. Computed once per file, when its Resource is built
    (its first request): mtimes are not trusted, because reproducible builds
    normalise them and a same-size edit would otherwise keep its ETag.
    """
    digest = hashlib.sha384()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise FileGone(path) from exc
    return '"' + base64.b64encode(digest.digest()).decode("ascii")[:27] + '"'


def load_resource(
    url: str,
    path: str,
    encodings: tuple[str, ...],
    config: Config,
    *,
    etag_hint: tuple[str, int | None] | None = None,
    immutable: bool = False,
    revalidate: bool = False,
    memory: MemoryBudget | None = None,
    source: tuple[str, tuple[str, ...]] | None = None,
    hint_written_ns: int | None = None,
    built_siblings: bool = False,
    vet_link: Callable[[str], bool] | None = None,
) -> Resource:
    """Stat a file (and its named siblings) and build its Resource.

    ``etag_hint`` is ``(opaque_tag, size or None)`` from a build manifest: used
    as the ETag when the file still has that size, so a fleet built from the same
    sources agrees on ETags whatever the files' mtimes. ``hint_written_ns`` is
    the manifest's own mtime: a file modified after it was written is not the
    file the hint describes (same size, other bytes), so the hint is ignored.
    ``revalidate`` sends ``no-cache`` whatever ``max_age`` says (HTML entry
    points). ``source`` is the index's ``(path, encodings)`` entry, kept by
    reference. ``built_siblings`` (a root indexed from a build manifest that
    lists siblings): compressed siblings are used only while the file is the
    one the build wrote (its manifest size, not modified since) and only those
    not modified since either, as a sibling made from other bytes would be
    wrong bytes. ``vet_link`` is asked about a sibling that is a symlink (false:
    it points out of the root, not used). Raises FileGone.
    """
    st = _stat_regular(path)
    as_built = (
        etag_hint is not None
        and etag_hint[1] in (None, st.st_size)
        and (hint_written_ns is None or st.st_mtime_ns <= hint_written_ns)
    )
    etag = f'"{etag_hint[0]}"' if as_built else content_etag(path)  # type: ignore[index]
    identity = Variant("identity", path, st.st_size, st.st_mtime_ns, etag, stat_stamp(st))

    encoded = []
    for suffix, encoding in SIBLING_ENCODINGS:
        if encoding not in encodings or (built_siblings and not as_built):
            continue
        sibling = path + suffix
        try:
            sst = os.lstat(sibling)
            if stat_module.S_ISLNK(sst.st_mode):
                if vet_link is not None and not vet_link(sibling):
                    continue
                sst = os.stat(sibling)
        except OSError:
            continue
        if not stat_module.S_ISREG(sst.st_mode):
            continue
        if built_siblings and hint_written_ns is not None and sst.st_mtime_ns > hint_written_ns:
            continue  # changed after the build: not made from this file's bytes
        # A sibling that does not save bytes is not worth a Vary header.
        if sst.st_size < st.st_size:
            tag = etag[:-1] + ETAG_SUFFIX[encoding] + '"'
            encoded.append(
                Variant(encoding, sibling, sst.st_size, sst.st_mtime_ns, tag, stat_stamp(sst))
            )
    encoded.sort(key=lambda v: v.size)

    resource = Resource(
        url,
        source or (path, encodings),
        identity,
        tuple(encoded),
        media_type_for(path, config.mimetypes, config.charset),
        immutable,
    )
    _build_headers(resource, config, revalidate)
    if memory is not None:
        for variant in resource.variants:
            memory.load(variant)
    return resource


def _cache_control(resource: Resource, config: Config, revalidate: bool = False) -> str | None:
    if resource.immutable:
        return IMMUTABLE_CACHE_CONTROL
    if revalidate:
        return "no-cache"
    max_age = config.effective_max_age
    return f"public, max-age={max_age}" if max_age else "no-cache"


def _build_headers(resource: Resource, config: Config, revalidate: bool = False) -> None:
    common: list[tuple[str, str]] = [("content-type", resource.content_type)]
    cache_control = _cache_control(resource, config, revalidate)
    if cache_control:
        common.append(("cache-control", cache_control))
    common.append(("accept-ranges", "bytes"))
    if resource.encoded:
        common.append(("vary", "Accept-Encoding"))
    if config.allow_all_origins:
        common.append(("access-control-allow-origin", "*"))
    if config.add_headers is not None:
        hooked = HeaderList(common)
        config.add_headers(hooked, resource.identity.path, resource.url)
        common = checked_pairs(hooked, resource.identity.path)
    encoded_common = _share(
        tuple(
            shared_pair(name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in common
        )
    )
    epoch = resource.last_modified_epoch
    last_modified = () if epoch is None else (_http_date(epoch)[2],)
    for variant in resource.variants:
        variant.resource = resource
        encoding: tuple[tuple[bytes, bytes], ...] = ()
        if variant.encoding != "identity":
            encoding = (shared_pair(b"content-encoding", variant.encoding.encode("latin-1")),)
        full = (
            *encoded_common,
            (b"etag", variant.etag.encode("latin-1")),
            *last_modified,
            *encoding,
            (b"content-length", str(variant.size).encode("latin-1")),
        )
        variant.plan_get = Plan(200, full, FileSlice(variant, 0, variant.size))


class MemoryBudget:
    """Accounts for small files' bytes held in memory: at most ``file_max`` each.

    ``budget`` is the total the index keeps them under: past it, the index
    drops the bytes of the least recently used files (:meth:`drop`; their
    variants are then streamed from disk, and loaded again when used again).
    """

    def __init__(self, file_max: int, budget: int) -> None:
        self.file_max = file_max
        self.budget = budget
        self.used = 0
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        return self.budget - self.used

    def load(self, variant: Variant) -> None:
        """Read a variant's bytes into memory if it is small enough."""
        size = variant.size
        if size > self.file_max or size > self.budget or variant.body is not None:
            return
        try:
            with open(variant.path, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read(size + 1)
        except OSError:
            return
        # Only bytes that are exactly what the index described are kept; a file
        # that changed since its stat is streamed (and re-checked) instead.
        if len(data) != size or not variant.matches_stat(st):
            return
        with self._lock:
            if variant.body is not None:
                return
            self.used += size
            variant.body = data
            variant.plan_get = Plan(200, variant.plan_get.headers, data)

    def drop(self, resource: Resource) -> None:
        """Stop holding a resource's bytes: its variants are streamed from disk."""
        with self._lock:
            for variant in resource.variants:
                if variant.body is not None:
                    self.used -= variant.size
                    # The plan first: a request reading the variant now gets the file.
                    variant.plan_get = Plan(
                        200, variant.plan_get.headers, FileSlice(variant, 0, variant.size)
                    )
                    variant.body = None

    def release(self, resource: Resource) -> None:
        """Forget a resource's bytes (it was replaced or evicted)."""
        self.drop(resource)
