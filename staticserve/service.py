"""What every adapter does with a request path: look it up, plan the answer.

:class:`StaticFiles` ties a :class:`Config` and a :class:`StaticIndex`
together. Adapters translate their protocol into ``plan(path, method, headers,
query)`` and the returned :class:`Plan` back into their protocol; this module
holds no HTTP rule and does no I/O beyond what the index does.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from time import monotonic
from typing import Any, Literal

from . import speedups
from .config import Config, ConfigError, make_config
from .http import (
    ErrorPlans,
    accepts_html,
    fallback_plan,
    is_navigation,
    respond,
    select_variant,
)
from .index import StaticIndex
from .plan import Plan
from .resource import Redirect, Resource

# How often an adapter plans again when the file behind a plan changed under it
# before giving up (the file keeps changing): then the request is a miss. A
# plan is only retried when its file changed between the stat and the open,
# so each attempt is cheap; 3 was too few for a file rewritten every few ms
# under autorefresh on a loaded machine (tests/hardening/test_faults.py saw a
# 404 for a file that always existed).
REPLAN_ATTEMPTS = 10


class StaticFiles:
    """The adapter-independent part of a staticserve middleware."""

    def __init__(
        self,
        root: str | os.PathLike[str] | None = None,
        prefix: str = "/static/",
        *,
        config: Config | None = None,
        **options: object,
    ) -> None:
        self.config = config if config is not None else make_config(**options)
        self.index = StaticIndex(self.config)
        # autorefresh re-reads the disk on every lookup already.
        self._recheck = not self.config.autorefresh
        self._recheck_interval = self.config.recheck_interval
        # find()'s freshness window: never fresh under autorefresh.
        self._fresh_for = self._recheck_interval if self._recheck else -1.0
        self._entries = self.index._entries
        self._pending = self.index._pending
        self._gone = self.index._gone
        self._max_ranges = self.config.max_ranges
        #: The error answers (404, 405, ...) with the miss_cache_control header.
        self.errors = ErrorPlans(self.config.miss_cache_control)
        self.prefixes: tuple[str, ...] = ()
        #: Prefixes under which the wrapped app's own error answers get the miss
        #: header too (see :func:`staticserve.http.marks_miss`).
        self.miss_prefixes: tuple[str, ...] = ()
        # SPA fallback: (prefix, URL of the fallback file), longest prefix first.
        self.fallbacks: tuple[tuple[str, str], ...] = ()
        self._lookup: Any | None = None  # the C fast path, once an adapter asks (fast_lookup)
        if root is not None:
            self.add_files(root, prefix)
            if self.config.fallback and not self.fallbacks:
                raise ConfigError(
                    f"staticserve: fallback file {self.config.fallback!r} is not in root "
                    f"{os.fspath(root)!r}; build the front end first or fix the fallback option"
                )

    def add_files(self, root: str | os.PathLike[str], prefix: str = "/static/") -> None:
        """Serve the files under ``root`` at URLs starting with ``prefix``."""
        self.index.add_root(root, prefix)
        self.prefixes = self.index.prefixes
        # "/" shares its URL space with the application's own pages, whose
        # error answers stay the application's business; but a front end's
        # build at "/" keeps its assets in directories (Vite's /assets/), where
        # a miss is a file of another release, as under any static prefix.
        if self.errors.header:
            self.miss_prefixes = tuple(p for p in self.prefixes if p != "/")
            if "/" in self.prefixes:
                directories = self.index.top_directories("/") - set(self.miss_prefixes)
                self.miss_prefixes += tuple(sorted(directories))
        if self.config.fallback:
            found = set()
            for r in self.index.roots:
                url = r.prefix + self.config.fallback
                entry = self.index.lookup(url)
                if entry.__class__ is Redirect:
                    # index_file: dir/index.html redirects to dir/, which serves it.
                    url = url[: url.rfind("/") + 1]
                    entry = self.index.lookup(url)
                if entry.__class__ is Resource:
                    found.add((r.prefix, url))
            self.fallbacks = tuple(sorted(found, key=lambda f: len(f[0]), reverse=True))
        if self._lookup is not None:
            self._lookup.__init__(**self._lookup_tables())  # the same object, new tables

    def miss_header_str(self) -> tuple[str, str] | None:
        """The miss ``Cache-Control`` header as WSGI/Django want it, or None."""
        if not self.errors.header:
            return None
        name, value = self.errors.header[0]
        return name.decode("latin-1"), value.decode("latin-1")

    def fallback_url(self, path: str, method: str) -> str | None:
        """The fallback file's URL when a miss at ``path`` may be answered with it.

        Only navigations (see :func:`staticserve.http.is_navigation`) under a
        prefix whose root holds the fallback file; the adapter then checks
        ``Accept`` with :meth:`plan_fallback`, after the wrapped app said 404.
        """
        if not self.fallbacks or not is_navigation(method, path):
            return None
        for prefix, url in self.fallbacks:
            if path.startswith(prefix) or path + "/" == prefix:
                return url
        return None

    def plan_fallback(
        self, url: str, method: str, headers: Mapping[str, str], accept: str | None
    ) -> Plan | None:
        """The fallback file's plan for a navigation that accepts HTML, else None."""
        if not accepts_html(accept):
            return None
        plan = self.plan(url, method, headers)
        return None if plan is None else fallback_plan(plan)

    def plan(
        self, path: str, method: str, headers: Mapping[str, str], query: str = ""
    ) -> Plan | None:
        """The plan for a decoded URL path, or None when no file answers it."""
        entry = self.load(path)
        if entry is None:
            return None
        return respond(entry, method, headers, query, self._max_ranges, self.errors)

    def needs_load(self, path: str) -> bool:
        """Whether :meth:`plan` would (re)load ``path``'s file: then call :meth:`load` first.

        True for a file not loaded yet, and for a loaded one whose due re-check
        (one ``stat`` per variant, done here) finds it changed on disk. A load
        reads the whole file for its ETag when no manifest gives one, so the
        ASGI adapter runs :meth:`load` in a thread, off the event loop.
        """
        entry = self._entries.get(path)
        if entry is None:
            return path in self._pending
        if not self._recheck or entry.__class__ is not Resource:
            return False
        now = monotonic()
        if now - entry.checked_at < self._recheck_interval:
            return False
        entry.checked_at = now
        if self._unchanged(path, entry):
            return False
        entry.checked_at = now - self._recheck_interval  # due again: load() reloads it
        return True

    def load(self, path: str) -> Resource | Redirect | None:
        """The current entry for ``path``, after the disk work it is due (thread-safe).

        What :meth:`plan` does before it answers: a first load, or a re-check
        of a loaded file against the disk (and its reload if it changed).
        Called from a thread, it leaves :meth:`plan` nothing to read from the
        disk for a while.
        """
        # The index's own fast path, inlined: this runs on every static request.
        entry = self._entries.get(path) if self._recheck else None
        if entry is None:
            entry = self.index.lookup(path)
            if entry is None:
                return None
        elif entry.__class__ is Resource:
            now = monotonic()
            if now - entry.checked_at >= self._recheck_interval:
                entry.checked_at = now
                if not self._unchanged(path, entry):
                    entry = self.index.refresh(path)
                    if entry is None:
                        return None
        return entry

    def _unchanged(self, path: str, entry: Resource) -> bool:
        """A due re-check: whether every variant still matches the disk (then noted as used)."""
        if not all(v.matches_disk() for v in entry.variants):
            return False
        # Recency for the caches, noted here rather than on every hit.
        self.index.touch(path, entry)
        return True

    def find(self, path: str) -> Resource | Literal[False] | None:
        """The adapters' per-request lookup, before they read any header.

        A loaded file not due for its re-check (answer it with
        :func:`~staticserve.http.respond_plain`, or :meth:`plan` when the
        request has :data:`~staticserve.http.COMPLEX_HEADERS`), None for a URL
        the index does not know or whose file was found missing within the
        last ``recheck_interval``, False when :meth:`plan` must decide (a
        redirect, a re-check, a file not loaded yet, ``autorefresh``).
        """
        entry = self._entries.get(path)
        if entry.__class__ is Resource:
            if monotonic() - entry.checked_at < self._fresh_for:
                return entry
        elif entry is None and self._recheck:
            if path not in self._pending:
                return None
            # A file found missing on disk: a plain miss until its next look,
            # without the general path (StaticIndex._gone).
            gone_at = self._gone.get(path)
            if gone_at is not None and monotonic() - gone_at < self._recheck_interval:
                return None
        return False

    def fast_lookup(self) -> Any | None:
        """:meth:`find` + :func:`~staticserve.http.respond_plain` in C over these
        tables (see :mod:`staticserve.speedups`), or None when it is not built or
        turned off. One per StaticFiles; :meth:`add_files` updates it in place,
        so an adapter holding its methods serves the new prefix too."""
        if self._lookup is None:
            lookup = speedups.lookup_class()
            if lookup is None:
                return None
            self._lookup = lookup(**self._lookup_tables())
        return self._lookup

    def _lookup_tables(self) -> dict[str, Any]:
        return {
            "entries": self._entries,
            "pending": self._pending,
            "gone": self._gone,
            # An ASCII path (the only kind the C path takes from WSGI) starts
            # with a prefix in PEP 3333's form exactly when it starts with the
            # prefix itself: these serve both protocols.
            "prefixes": self.prefixes,
            "miss_prefixes": self.miss_prefixes,
            "fresh_for": self._fresh_for,
            "recheck": self._recheck,
            "recheck_interval": self._recheck_interval,
            "fallbacks": bool(self.fallbacks),
            "resource_type": Resource,
            "clock": globals(),  # this module's monotonic, looked up per call as find() does
            "select_variant": select_variant,
            "miss_header": self.errors.header[0] if self.errors.header else None,
            "miss_header_str": self.miss_header_str(),
        }

    def replan(
        self, path: str, method: str, headers: Mapping[str, str], query: str = ""
    ) -> Plan | None:
        """Plan again after the file behind ``path`` changed on disk."""
        entry = self.index.refresh(path)
        if entry is None:
            return None
        return respond(entry, method, headers, query, self._max_ranges, self.errors)
