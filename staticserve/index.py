"""StaticIndex: scan roots (and their manifests) into a table URL → Resource.

Scanning vets every file once (regular file, no dotfiles, no symlink out of
the root, a name that is valid UTF-8) and records only its path and which
compressed siblings lie beside it. The full :class:`Resource`, with its header
lists, is built the first time its URL is requested, so indexing 100k files
costs one ``scandir`` pass and a few small objects per file.

A request path is only ever used as a key into this table; it never reaches
the filesystem (except in ``autorefresh`` mode, where :meth:`_find_on_disk`
vets it exactly as the scan would).
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat as stat_module
import threading
from time import monotonic

from .config import Config, ConfigError, MissingRoot
from .manifests import bundler_manifests
from .resource import (
    SIBLING_ENCODINGS,
    FileGone,
    MemoryBudget,
    Redirect,
    Resource,
    load_resource,
)

logger = logging.getLogger("staticserve")

MANIFEST_NAME = "staticfiles.json"
# The build's own files in a root, never served (even with include_dotfiles):
# the manifest, and the incremental build cache (pipeline.cache.CACHE_NAME).
NEVER_SERVED = frozenset({MANIFEST_NAME, ".staticserve-cache.json"})
_HASH_IN_NAME = re.compile(r"\.([0-9a-f]{12})\.[^./]+$")
_SIBLING_SUFFIXES = {suffix: encoding for suffix, encoding in SIBLING_ENCODINGS}

# Scan result for a file not yet requested: (file path, sibling encodings).
Pending = tuple[str, tuple[str, ...]]
Entry = Resource | Redirect

_INDEX_REDIRECT = Redirect("./")


def normalize_prefix(prefix: str) -> str:
    """``static`` / ``/static`` / ``/static/`` → ``/static/``."""
    prefix = "/" + prefix.strip("/")
    return prefix if prefix == "/" else prefix + "/"


class _Root:
    __slots__ = (
        "bundler_manifests",
        "listed",
        "manifest_hashed",
        "manifest_tags",
        "manifest_written_ns",
        "path",
        "prefix",
        "real",
    )

    def links_inside(self, path: str) -> bool:
        """Whether the symlink ``path`` resolves inside this root."""
        return _is_within(os.path.realpath(path), self.real)

    def __init__(self, path: str, prefix: str) -> None:
        self.path = os.path.abspath(path)
        self.real = os.path.realpath(path)
        self.prefix = prefix
        self.manifest_hashed: set[str] = set()
        # Bundler manifest (root-relative name) -> how many hashed files it names.
        self.bundler_manifests: dict[str, int] = {}
        self.manifest_tags: dict[str, tuple[str, int | None]] = {}
        # The manifest's mtime: files modified later are not what it describes.
        self.manifest_written_ns: int | None = None
        # Indexed from the manifest's file list (no walk): files are vetted when served.
        self.listed = False


class StaticIndex:
    """The table of every servable URL, built once at start-up."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        self.roots: list[_Root] = []
        self.prefixes: tuple[str, ...] = ()
        self._pending: dict[str, Pending] = {}
        self._entries: dict[str, Entry] = {}
        # URL → when its file was last found missing (time.monotonic()). The URL
        # stays in _pending, so its file is served again once it is back (a
        # deploy copying over the old tree, an NFS blip): looked for on disk at
        # most once per recheck_interval, a plain miss in between. Only URLs of
        # _pending are ever keys, so the index's own size bounds this dict.
        self._gone: dict[str, float] = {}
        self._gone_for = self.config.recheck_interval
        # URL → its root, for roots after the first only: most indexes have one
        # root, whose URLs then cost no entry here (see _root_of).
        self._url_root: dict[str, _Root] = {}
        self._memory = MemoryBudget(self.config.memory_file_max, self.config.memory_budget)
        # How many Resources are built (Redirects are tiny and never dropped).
        self._built = 0
        self._cached_max = self.config.cached_files_max
        self._lock = threading.Lock()
        # URL → the lock of its first load in progress (see _load_once).
        self._loading: dict[str, threading.Lock] = {}

    # -- building -------------------------------------------------------

    def add_root(self, path: str | os.PathLike[str], prefix: str = "/static/") -> None:
        """Index every file under ``path`` at URLs starting with ``prefix``.

        Raises ConfigError if ``path`` is not a directory, except with
        ``autorefresh`` (development), where a root may appear later: it is
        then served as soon as it exists. Later roots do not replace URLs an
        earlier root already provides (first root wins).
        """
        path = os.fspath(path)
        missing = not os.path.isdir(path)
        if missing and not self.config.autorefresh:
            raise MissingRoot(
                f"staticserve: static root {path!r} is not a directory; create it, "
                "run `staticserve build` / `collectstatic`, or fix the root option "
                "(only autorefresh, for development, accepts a root that appears later)"
            )
        root = _Root(path, normalize_prefix(prefix))
        self.roots.append(root)
        self.prefixes = tuple(sorted({r.prefix for r in self.roots}, key=len, reverse=True))
        if missing:
            logger.warning(
                "staticserve: static root %s does not exist yet; with autorefresh its files "
                "are served once it does",
                path,
            )
            return
        listed = None
        if self.config.manifest:
            listed = self._read_manifest(root)
            # Vite / webpack manifests: the files the bundler says it hashed.
            for rel, names in bundler_manifests(root.path).items():
                root.bundler_manifests[rel] = len(names)
                root.manifest_hashed |= names
        # The build's manifest is the index's snapshot (no walk, no stat), but
        # it lists no dotfiles: include_dotfiles (.well-known/...) walks.
        if listed is not None and not (self.config.autorefresh or self.config.include_dotfiles):
            self._index_listed(root, listed)
        else:
            self._scan(root)

    def _read_manifest(self, root: _Root) -> dict[str, tuple[str, ...]] | None:
        """Read the root's manifest into ``root``; return its file list if it has one.

        The list (name → sibling encodings) is returned when every ``files``
        entry records its siblings (``encodings``, written by ``staticserve
        build``), i.e. when the manifest can stand in for a walk of the root.
        """
        manifest_path = os.path.join(root.path, MANIFEST_NAME)
        try:
            with open(manifest_path, "rb") as f:
                root.manifest_written_ns = os.fstat(f.fileno()).st_mtime_ns
                data = json.loads(f.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"staticserve: cannot read manifest {manifest_path}: {exc}; "
                "rebuild it (staticserve build / collectstatic) or delete it"
            ) from None
        if not isinstance(data, dict) or data.get("version") not in ("1.0", "1.1"):
            raise ConfigError(
                f"staticserve: manifest {manifest_path} is not a Django staticfiles "
                "manifest of version 1.0 or 1.1; rebuild it or delete it"
            )
        paths = data.get("paths") or {}
        files = data.get("files") or {}
        if not isinstance(paths, dict) or not isinstance(files, dict):
            raise ConfigError(f"staticserve: manifest {manifest_path} has malformed entries")
        root.manifest_hashed = {str(v) for v in paths.values()}
        for name, info in files.items():
            if isinstance(info, dict) and "release" in info:
                # A hashed file an earlier release still uses (pipeline/releases.py).
                root.manifest_hashed.add(name)
            integrity = info.get("integrity") if isinstance(info, dict) else None
            size = info.get("size") if isinstance(info, dict) else None
            if isinstance(integrity, str) and "-" in integrity and isinstance(size, int):
                # The digest's base64 is safe inside an entity-tag (RFC 9110 8.8.3).
                root.manifest_tags[name] = (integrity.split("-", 1)[1][:27], size)
        for hashed in root.manifest_hashed:
            match = _HASH_IN_NAME.search(hashed)
            if match and hashed not in root.manifest_tags:
                # Django's own manifest: a hashed name carries its content's MD5.
                # (Not its original's: Django rewrites only the hashed copy.)
                root.manifest_tags[hashed] = (match.group(1), None)
        listed: dict[str, tuple[str, ...]] = {}
        for name, info in files.items():
            encodings = info.get("encodings") if isinstance(info, dict) else None
            if not isinstance(encodings, dict):
                return None  # an older or Django manifest: walk the root instead
            listed[name] = _intern(
                tuple(e for _, e in SIBLING_ENCODINGS if isinstance(encodings.get(e), int))
            )
        return listed if files else None

    def _index_listed(self, root: _Root, listed: dict[str, tuple[str, ...]]) -> None:
        """Index a root from its manifest's file list, vetting names, not files.

        What the walk checks on disk (a regular file, readable, no symlink out
        of the root) is checked when the file is first served (:meth:`_load`).
        """
        root.listed = True
        pending = self._pending
        include_dotfiles = self.config.include_dotfiles
        base = root.path
        for name, encodings in listed.items():
            parts = name.split("/")
            if (
                name in NEVER_SERVED
                or any(_bad_segment(p, include_dotfiles) for p in parts)
                or not _is_utf8(name)
            ):
                logger.warning(
                    "staticserve: manifest %s lists %r, which cannot be served; rebuild it",
                    os.path.join(base, MANIFEST_NAME),
                    name,
                )
                continue
            last = parts[-1]
            suffix = last[last.rfind(".") :] if "." in last else ""
            if suffix in _SIBLING_SUFFIXES and name[: -len(suffix)] in listed:
                continue  # a compressed sibling: served as a variant, not by name
            url = root.prefix + name
            if url not in pending:
                pending[url] = (os.path.join(base, *parts), encodings)
                self._set_root(url, root)
        self._add_index_urls(root)

    def _set_root(self, url: str, root: _Root) -> None:
        if root is not self.roots[0]:
            self._url_root[url] = root

    def _root_of(self, url: str) -> _Root:
        return self._url_root.get(url) or self.roots[0]

    def _inside_root(self, root: _Root, path: str) -> bool:
        """Whether ``path`` (below ``root``) resolves inside it: no symlink out.

        One ``lstat`` per path segment below the root; a full ``realpath``
        only when one of them is a symlink.
        """
        if self.config.follow_outside_symlinks:
            return True
        probe = root.path
        for part in path[len(root.path) :].split(os.sep):
            if not part:
                continue
            probe = os.path.join(probe, part)
            try:
                mode = os.lstat(probe).st_mode
            except OSError:
                return True  # gone: the stat in load_resource answers it
            if stat_module.S_ISLNK(mode):
                if _is_within(os.path.realpath(path), root.real):
                    return True
                logger.info("staticserve: not serving %s: it links outside the root", path)
                return False
        return True

    def _scan(self, root: _Root) -> None:
        seen_dirs = {root.real}
        stack = [(root.path, "")]
        pending = self._pending
        include_dotfiles = self.config.include_dotfiles
        while stack:
            directory, rel_dir = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = list(it)
            except OSError as exc:
                logger.warning("staticserve: skipping directory %s: %s", directory, exc)
                continue
            names = {e.name for e in entries}
            for entry in entries:
                name = entry.name
                if name[0] == "." and not include_dotfiles:
                    continue
                rel = rel_dir + name
                try:
                    is_link = entry.is_symlink()
                    if is_link:
                        target = self._vet_symlink(root, entry.path)
                        if target is None:
                            continue
                    if entry.is_dir():
                        if is_link:
                            real = os.path.realpath(entry.path)
                            if real in seen_dirs:
                                continue  # a symlink loop
                            seen_dirs.add(real)
                        stack.append((entry.path, rel + "/"))
                        continue
                    if not entry.is_file():
                        continue  # sockets, FIFOs, devices
                    if not os.access(entry.path, os.R_OK):
                        logger.warning(
                            "staticserve: skipping %s: permission denied; make it readable "
                            "by the server's user or remove it",
                            entry.path,
                        )
                        continue
                except OSError as exc:
                    logger.warning("staticserve: skipping %s: %s", entry.path, exc)
                    continue
                suffix = name[name.rfind(".") :] if "." in name else ""
                if suffix in _SIBLING_SUFFIXES and name[: -len(suffix)] in names:
                    continue  # a compressed sibling: served as a variant, not by name
                if rel in NEVER_SERVED:
                    continue
                if not _is_utf8(rel):
                    logger.warning(
                        "staticserve: skipping %s: its name is not valid UTF-8, so no URL "
                        "can name it; rename it",
                        entry.path,
                    )
                    continue
                encodings = tuple(
                    encoding for suffix, encoding in SIBLING_ENCODINGS if name + suffix in names
                )
                url = root.prefix + rel
                if url not in pending:
                    pending[url] = (entry.path, _intern(encodings))
                    self._set_root(url, root)
        self._add_index_urls(root)

    def _vet_symlink(self, root: _Root, path: str) -> str | None:
        real = os.path.realpath(path)
        if not os.path.exists(real):
            return None
        if self.config.follow_outside_symlinks or _is_within(real, root.real):
            return real
        logger.info("staticserve: not serving %s: it links outside the root", path)
        return None

    def _add_index_urls(self, root: _Root) -> None:
        index_name = self.config.index_name
        if not index_name:
            return
        suffix = "/" + index_name
        for url in [u for u in self._pending if self._root_of(u) is root]:
            if url == root.prefix + index_name or url.endswith(suffix):
                directory_url = url[: -len(index_name)]
                if directory_url not in self._pending:
                    self._pending[directory_url] = self._pending[url]
                    self._set_root(directory_url, root)
                # One URL per page: dir/index.html -> ./ (as WhiteNoise does).
                self._entries[url] = _INDEX_REDIRECT
                bare = directory_url[:-1]
                if bare and bare + "/" != root.prefix and bare not in self._pending:
                    self._entries[bare] = Redirect(bare.rsplit("/", 1)[1] + "/")

    # -- lookup ---------------------------------------------------------

    def __len__(self) -> int:
        return len(self._pending)

    def urls(self) -> list[str]:
        return sorted(self._pending)

    def top_directories(self, prefix: str) -> set[str]:
        """The URL prefixes (``/assets/``) of the top-level directories of the
        roots served at ``prefix``."""
        start = len(prefix)
        found = set()
        for url in self._pending:
            if url.startswith(prefix) and self._root_of(url).prefix == prefix:
                cut = url.find("/", start)
                if cut > 0:
                    found.add(url[: cut + 1])
        return found

    def lookup(self, url: str) -> Entry | None:
        """The Resource (or Redirect) for a decoded URL path, or None."""
        entry = self._entries.get(url)
        if entry is not None and not self.config.autorefresh:
            return entry
        if self.config.autorefresh:
            return self._lookup_fresh(url, entry)
        pending = self._pending.get(url)
        if pending is None or (url in self._gone and not self._may_look_again(url)):
            return None
        return self._load_once(url, pending)

    def _load_once(self, url: str, pending: Pending) -> Entry | None:
        """A first load, once: threads asking for the same URL meanwhile (WSGI
        workers) wait for it instead of hashing the same file again."""
        with self._lock:
            gate = self._loading.get(url)
            if gate is None:
                gate = self._loading[url] = threading.Lock()
        with gate:
            entry = self._entries.get(url)
            if entry is not None:
                return entry  # loaded by the thread this one waited for
            try:
                return self._load(url, pending)
            finally:
                with self._lock:
                    if self._loading.get(url) is gate:
                        del self._loading[url]

    def refresh(self, url: str) -> Entry | None:
        """Re-read one URL's file after it changed or vanished on disk."""
        with self._lock:
            self._forget(url)
        pending = self._pending.get(url)
        if pending is None or (url in self._gone and not self._may_look_again(url)):
            return None
        return self._load(url, pending)

    def _may_look_again(self, url: str) -> bool:
        """Whether a gone URL's file may be looked for on disk now; if so, claims the look.

        Claiming restarts the window, so of many concurrent requests for a file
        still missing, one stats it and the others are misses without a syscall.
        """
        now = monotonic()
        with self._lock:
            gone_at = self._gone.get(url)
            if gone_at is not None and now - gone_at < self._gone_for:
                return False
            if gone_at is not None:
                self._gone[url] = now
        return True

    def _load(self, url: str, pending: Pending) -> Resource | None:
        path, encodings = pending
        root = self._root_of(url)
        rel = url[len(root.prefix) :]
        if rel == "" or rel.endswith("/"):
            rel += self.config.index_name or ""
        # An entry point (index.html, the SPA fallback) must show a deploy at once.
        entry_point = self.config.is_entry_point(rel)
        hashed = not entry_point and rel in root.manifest_hashed
        try:
            if root.listed and not self._inside_root(root, path):
                raise FileGone(path)
            resource = load_resource(
                url,
                path,
                encodings,
                self.config,
                etag_hint=root.manifest_tags.get(rel),
                immutable=not entry_point and (hashed or self.config.is_immutable(path, url)),
                revalidate=entry_point,
                memory=None if self.config.autorefresh else self._memory,
                source=pending,
                hint_written_ns=root.manifest_written_ns,
                built_siblings=root.listed,
                vet_link=None if self.config.follow_outside_symlinks else root.links_inside,
            )
        except FileGone:
            with self._lock:
                self._forget(url)
                if self.config.autorefresh:
                    # _lookup_fresh looks on disk on every request anyway.
                    self._pending.pop(url, None)
                else:
                    if url not in self._gone:
                        logger.info(
                            "staticserve: %s is missing on disk; %s answers as a miss and "
                            "the file is looked for again every recheck_interval",
                            path,
                            url,
                        )
                    self._gone[url] = monotonic()
            return None
        with self._lock:
            self._forget(url)
            if self._gone.pop(url, None) is not None:
                logger.info("staticserve: %s is back on disk; serving %s again", path, url)
            self._entries[url] = resource
            self._built += 1
            if self._cached_max is not None and self._built > self._cached_max:
                # A tenth at a time, so the sort is paid once per many loads.
                self._evict(self._built - self._cached_max + self._cached_max // 10)
            memory = self._memory
            if memory.used > memory.budget:
                self._evict_bytes()
        return resource

    def _least_recent(self, holding_bytes: bool = False) -> list[tuple[str, Resource]]:
        """Built resources, least recently used first (lock held).

        Recency is ``checked_at``: the service sets it when it re-checks a file
        against the disk, at most once per ``recheck_interval``, so the
        per-request path does no bookkeeping for it.
        """
        built = [
            (url, entry)
            for url, entry in self._entries.items()
            if entry.__class__ is Resource
            and (not holding_bytes or any(v.body is not None for v in entry.variants))
        ]
        built.sort(key=lambda item: item[1].checked_at)
        return built

    def _evict(self, count: int) -> None:
        for url, _ in self._least_recent()[:count]:
            self._forget(url)

    def _evict_bytes(self) -> None:
        """Drop the least recently used files' bytes to 90 % of the budget (lock held)."""
        memory = self._memory
        target = memory.budget - memory.budget // 10
        for _, resource in self._least_recent(holding_bytes=True):
            if memory.used <= target:
                break
            memory.drop(resource)

    def _forget(self, url: str) -> None:
        """Drop a URL's built Resource and its bytes held in memory (lock held)."""
        entry = self._entries.pop(url, None)
        if entry.__class__ is Resource:
            self._built -= 1
            self._memory.release(entry)

    def touch(self, url: str, resource: Resource) -> None:
        """Note a use of ``url``: it is the last to be dropped; its bytes come back."""
        resource.checked_at = monotonic()
        if self.config.autorefresh or self._entries.get(url) is not resource:
            return
        memory = self._memory
        for variant in resource.variants:
            if variant.body is None and variant.size <= memory.file_max:
                memory.load(variant)
        if memory.used > memory.budget:
            with self._lock:
                self._evict_bytes()

    @property
    def cached_count(self) -> int:
        """How many URLs have their Resource built right now."""
        return self._built

    # -- autorefresh (development) ---------------------------------------

    def _lookup_fresh(self, url: str, entry: Entry | None) -> Entry | None:
        index_name = self.config.index_name
        if index_name and url.endswith("/" + index_name):
            # dir/index.html -> ./ while the file exists (one URL per page).
            return _INDEX_REDIRECT if self._find_on_disk(url) is not None else None
        found = self._find_on_disk(url)
        if found is None:
            with self._lock:
                self._pending.pop(url, None)
                self._forget(url)
            return self._directory_redirect(url)
        root, path = found
        encodings = tuple(
            encoding for suffix, encoding in SIBLING_ENCODINGS if os.path.isfile(path + suffix)
        )
        pending = (path, encodings)
        if (
            isinstance(entry, Resource)
            and entry.source == pending
            and all(v.matches_disk() for v in entry.variants)
        ):
            return entry
        with self._lock:
            self._pending[url] = pending
            self._set_root(url, root)
        return self._load(url, pending)

    def _directory_redirect(self, url: str) -> Redirect | None:
        """autorefresh: ``dir`` -> ``dir/`` when ``dir/<index file>`` is on disk now."""
        if not self.config.index_name or url.endswith("/") or url + "/" in self.prefixes:
            return None
        if self._find_on_disk(url + "/") is not None:
            return Redirect(url.rsplit("/", 1)[1] + "/")
        return None

    def _find_on_disk(self, url: str) -> tuple[_Root, str] | None:
        """Map a URL to a vetted file under a root, as a scan would have."""
        for root in self.roots:
            if not url.startswith(root.prefix):
                continue
            rel = url[len(root.prefix) :]
            if rel == "" or rel.endswith("/"):
                if not self.config.index_name:
                    continue
                rel += self.config.index_name
            parts = rel.split("/")
            if any(_bad_segment(p, self.config.include_dotfiles) for p in parts):
                return None
            last = parts[-1]
            suffix = last[last.rfind(".") :] if "." in last else ""
            path = os.path.join(root.path, *parts)
            if suffix in _SIBLING_SUFFIXES and os.path.exists(path[: -len(suffix)]):
                return None
            if rel in NEVER_SERVED:
                return None
            try:
                st = os.stat(path)
            except (OSError, ValueError):
                continue
            if not stat_module.S_ISREG(st.st_mode):
                continue
            real = os.path.realpath(path)
            if not self.config.follow_outside_symlinks and not _is_within(real, root.real):
                return None
            return root, path
        return None


_INTERNED: dict[tuple[str, ...], tuple[str, ...]] = {}


def _intern(encodings: tuple[str, ...]) -> tuple[str, ...]:
    return _INTERNED.setdefault(encodings, encodings)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.fsdecode's surrogate escapes
        return False
    return True


def _is_within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def _bad_segment(segment: str, include_dotfiles: bool) -> bool:
    if segment in ("", ".", ".."):
        return True
    if segment[0] == "." and not include_dotfiles:
        return True
    return "\\" in segment or "\x00" in segment or os.sep in segment
