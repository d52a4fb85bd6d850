"""Resource and Variant: everything about one served file, computed once.

A :class:`Resource` is what one URL names; its :class:`Variant` objects are the
representations we can send for it (identity, and ``br`` / ``gzip`` / ``zstd``
siblings). Each variant carries its size, path, strong ETag and the complete
header lists and plans for the common answers (200, HEAD, 304), so the request
path only picks one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat as stat_module
from email.utils import formatdate
from time import monotonic

from .config import Config
from .headers import HeaderList, checked_pairs
from .media_types import media_type_for
from .plan import FileSlice, Headers, Plan

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


class Variant:
    """One representation of a resource: one file on disk, one encoding."""

    __slots__ = (
        "base_headers",
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
    )

    def __init__(self, encoding: str, path: str, size: int, mtime_ns: int, etag: str) -> None:
        self.encoding = encoding
        self.path = path
        self.size = size
        self.mtime_ns = mtime_ns
        self.etag = etag
        self.body: bytes | None = None
        self.resource: Resource
        # Headers of a 200 without Content-Length (206 responses add their own).
        self.base_headers: Headers = ()
        self.plan_get: Plan
        self.plan_head: Plan
        self.plan_not_modified: Plan

    def matches_disk(self) -> bool:
        """Does the file still have the size and mtime its headers were built from?"""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return st.st_size == self.size and st.st_mtime_ns == self.mtime_ns

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
        self.content_type = content_type
        self.immutable = immutable
        epoch = identity.mtime_ns // 1_000_000_000
        # None: no Last-Modified, and date preconditions are ignored (RFC 9110 13.1.3-4).
        self.last_modified_epoch: int | None = epoch if epoch >= MEANINGFUL_MTIME else None
        self.last_modified: str | None = (
            formatdate(epoch, usegmt=True) if epoch >= MEANINGFUL_MTIME else None
        )
        # When the files were last compared with disk (time.monotonic()).
        self.checked_at = monotonic()
        # Accept-Encoding value → chosen variant (filled by http.select_variant).
        self.negotiated: dict[str, Variant] = {}

    @property
    def variants(self) -> tuple[Variant, ...]:
        return (*self.encoded, self.identity)

    def __repr__(self) -> str:
        return f"<Resource {self.url} {[v.encoding for v in self.variants]}>"


class Redirect:
    """``dir`` → ``dir/`` when ``dir/index.html`` is served (``index_file``)."""

    __slots__ = ("location",)

    def __init__(self, location: str) -> None:
        self.location = location


class FileGone(Exception):
    """The file behind an index entry is missing or no longer a regular file."""


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
) -> Resource:
    """Stat a file (and its named siblings) and build its Resource.

    ``etag_hint`` is ``(opaque_tag, size or None)`` from a build manifest: used
    as the ETag when the file still has that size, so a fleet built from the same
    sources agrees on ETags whatever the files' mtimes. ``revalidate`` sends
    ``no-cache`` whatever ``max_age`` says (HTML entry points). Raises FileGone.
    """
    st = _stat_regular(path)
    if etag_hint is not None and etag_hint[1] in (None, st.st_size):
        etag = f'"{etag_hint[0]}"'
    else:
        etag = content_etag(path)
    identity = Variant("identity", path, st.st_size, st.st_mtime_ns, etag)

    encoded = []
    for suffix, encoding in SIBLING_ENCODINGS:
        if encoding not in encodings:
            continue
        try:
            sst = _stat_regular(path + suffix)
        except FileGone:
            continue
        # A sibling that does not save bytes is not worth a Vary header.
        if sst.st_size < st.st_size:
            tag = etag[:-1] + ETAG_SUFFIX[encoding] + '"'
            encoded.append(Variant(encoding, path + suffix, sst.st_size, sst.st_mtime_ns, tag))
    encoded.sort(key=lambda v: v.size)

    resource = Resource(
        url,
        (path, encodings),
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
    encoded_common = tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in common
    )
    # RFC 9110 15.4.5: a 304 carries the validators and caching fields a 200 would.
    kept_on_304 = {b"cache-control", b"vary", b"expires", b"content-location"}
    for variant in resource.variants:
        variant.resource = resource
        validators: list[tuple[bytes, bytes]] = [(b"etag", variant.etag.encode("latin-1"))]
        if resource.last_modified is not None:
            validators.append((b"last-modified", resource.last_modified.encode("latin-1")))
        own = list(validators)
        if variant.encoding != "identity":
            own.append((b"content-encoding", variant.encoding.encode("latin-1")))
        variant.base_headers = (*encoded_common, *own)
        full = (*variant.base_headers, (b"content-length", str(variant.size).encode("latin-1")))
        variant.plan_get = Plan(200, full, FileSlice(variant, 0, variant.size))
        variant.plan_head = Plan(200, full, b"")
        not_modified = tuple(h for h in encoded_common if h[0] in kept_on_304)
        variant.plan_not_modified = Plan(304, (*not_modified, *validators), b"")


class MemoryBudget:
    """Holds small files' bytes in memory, up to a total budget."""

    def __init__(self, file_max: int, budget: int) -> None:
        self.file_max = file_max
        self.remaining = budget

    def load(self, variant: Variant) -> None:
        if variant.size > self.file_max or variant.size > self.remaining:
            return
        try:
            with open(variant.path, "rb") as f:
                st = os.fstat(f.fileno())
                data = f.read(variant.size + 1)
        except OSError:
            return
        # Only bytes that are exactly what the index described are kept; a file
        # that changed since its stat is streamed (and re-checked) instead.
        if len(data) != variant.size or st.st_mtime_ns != variant.mtime_ns:
            return
        self.remaining -= variant.size
        variant.body = data
        variant.plan_get = Plan(200, variant.plan_get.headers, data)
