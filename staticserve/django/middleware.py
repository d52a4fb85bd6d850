"""Django middleware: a thin adapter from a Django request to a staticserve plan.

Per request: a prefix check on ``request.path_info``, the headers named in
:data:`staticserve.http.REQUEST_HEADERS` from ``request.META``,
``files.plan(...)``, and the plan turned into a Django response carrying
exactly the plan's headers. No HTTP rule lives here.

* A body held in memory becomes an :class:`~django.http.HttpResponse`.
* A file-backed body becomes a :class:`StaticFileResponse` (streaming). For a
  whole file it exposes ``file_to_stream``, so Django's WSGI handler hands the
  file to ``wsgi.file_wrapper`` and gunicorn can ``sendfile`` it. Under ASGI
  the body is an async iterator reading chunks in the default thread pool.
* The middleware is sync- and async-capable: under ASGI Django it runs on the
  event loop, so the static path makes no thread hop, except for a file's
  first load or reload (a whole-file hash without a manifest), which runs in
  the default thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse

from ..config import ConfigError, MissingRoot
from ..files import BodyReader, FileChanged
from ..http import REQUEST_HEADERS, marks_miss
from ..loads import ThreadedLoads
from ..plan import FileSlice, Plan
from ..service import REPLAN_ATTEMPTS, StaticFiles
from . import settings as ss_settings

logger = logging.getLogger("staticserve")

_META_KEYS = tuple(("HTTP_" + n.upper().replace("-", "_"), n) for n in REQUEST_HEADERS)


class StaticFileResponse(StreamingHttpResponse):
    """A file-backed plan as a streaming response; ``file_to_stream`` for whole files."""

    def __init__(self, plan: Plan, reader: BodyReader, chunk_size: int, is_async: bool) -> None:
        super().__init__(_async_chunks(reader) if is_async else _chunks(reader), status=plan.status)
        _set_headers(self, plan)
        self.block_size = chunk_size
        body = plan.body
        # Close the real file however the response ends (bind the file's own
        # close: Django's WSGI handler later replaces file.close).
        # (_resource_closers: Django's private list, not in django-stubs; the file is open.)
        self._resource_closers.append(reader.file.close)  # type: ignore[attr-defined,union-attr]
        if not is_async and body.__class__ is FileSlice and body.is_whole_file:
            # Django's WSGIHandler hands this to wsgi.file_wrapper (sendfile).
            self.file_to_stream = reader.file

    def __repr__(self) -> str:
        return f"<{type(self).__name__} status_code={self.status_code}>"


def _chunks(reader: BodyReader) -> Iterator[bytes]:
    try:
        chunk = reader.read()
        while chunk:
            yield chunk
            chunk = reader.read()
    except FileChanged as exc:
        logger.warning("staticserve: %s shrank while being sent; response cut short", exc)
    finally:
        reader.close()


async def _async_chunks(reader: BodyReader) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    try:
        chunk = await loop.run_in_executor(None, reader.read)
        while chunk:
            yield chunk
            chunk = await loop.run_in_executor(None, reader.read)
    except FileChanged as exc:
        logger.warning("staticserve: %s shrank while being sent; response cut short", exc)
    finally:
        reader.close()


def _set_headers(response: HttpResponseBase, plan: Plan) -> None:
    headers = response.headers
    for name in list(headers):
        del headers[name]
    for name, value in plan.str_headers():
        headers[name] = value


def _bytes_response(plan: Plan) -> HttpResponse:
    response = HttpResponse(plan.body, status=plan.status)
    _set_headers(response, plan)
    return response


def build_static_files(overrides: Mapping[str, Any] | None = None) -> StaticFiles:
    """The StaticFiles the middleware serves, from Django's settings (at start-up).

    ``overrides`` are core options that win over the settings (the WhiteNoise
    compatibility middleware passes a subclass's ``immutable_file_test`` this way).
    """
    files = StaticFiles(**{**ss_settings.core_options(), **(overrides or {})})
    url = ss_settings.static_url()
    if url.prefix is not None:
        if ss_settings.setting("USE_FINDERS"):
            for root, prefix in finder_roots(url.prefix):
                files.add_files(root, prefix)
        root = settings.STATIC_ROOT
        # A missing root is a start-up error, as in every adapter, except with
        # autorefresh (development) where it is served once it appears; with the
        # finders serving, an uncollected STATIC_ROOT is simply not needed.
        if root and (os.path.isdir(root) or not ss_settings.setting("USE_FINDERS")):
            _add_root(files, root, url.prefix, "STATIC_ROOT", "run `manage.py collectstatic`")
    extra_root = ss_settings.setting("ROOT")
    if extra_root:
        _add_root(files, extra_root, "/", "STATICSERVE_ROOT", "create it or fix the setting")
    if files.config.fallback and not files.fallbacks:
        raise ImproperlyConfigured(
            f"STATICSERVE_FALLBACK = {files.config.fallback!r}: no static root holds that "
            "file; set STATICSERVE_ROOT to the front end's build directory (e.g. dist) "
            "or fix the setting"
        )
    return files


def _add_root(files: StaticFiles, root: str, prefix: str, setting: str, fix: str) -> None:
    try:
        files.add_files(root, prefix)
    except MissingRoot:
        # The core's message lists every adapter's fixes; a Django user has one.
        raise ImproperlyConfigured(
            f"{setting} = {str(root)!r} is not a directory; {fix} (only "
            "STATICSERVE_AUTOREFRESH, on under DEBUG, accepts a root that appears later)"
        ) from None
    except ConfigError as exc:
        raise ImproperlyConfigured(f"{setting} = {str(root)!r}: {exc}; {fix}") from None


def finder_roots(prefix: str) -> list[tuple[str, str]]:
    """(directory, URL prefix) for every location of Django's finders, in their order.

    AppDirectoriesFinder and FileSystemFinder (and any finder keeping
    ``storages`` of file-system storages, with an optional ``prefix``) are
    supported; the first location holding a path wins, as with ``findstatic``.
    """
    from django.contrib.staticfiles.finders import get_finders

    roots: list[tuple[str, str]] = []
    for finder in get_finders():
        storages = getattr(finder, "storages", None)
        if not isinstance(storages, dict):
            logger.warning(
                "staticserve: finder %s keeps no file-system storages; its files are "
                "not served in STATICSERVE_USE_FINDERS mode (run collectstatic)",
                type(finder).__name__,
            )
            continue
        for storage in storages.values():
            location = getattr(storage, "location", None)
            if not location or not os.path.isdir(location):
                continue
            sub = getattr(storage, "prefix", None) or ""
            roots.append((location, prefix + sub.strip("/") + "/" if sub else prefix))
    return roots


class StaticServeMiddleware:
    """Serve static files ahead of the rest of Django; place right after SecurityMiddleware."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)
        self.files = build_static_files(self.core_overrides())
        self._loads = ThreadedLoads(self.files)
        self.chunk_size = self.files.config.chunk_size
        self.miss_header = self.files.miss_header_str()

    def core_overrides(self) -> dict[str, Any]:
        """Core options that win over the settings; none here (a hook for subclasses)."""
        return {}

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            path = request.path_info
            if path.startswith(self.files.prefixes) and self.files.needs_load(path):
                return self._aload(request)
        return self._respond(request)

    async def _aload(self, request: HttpRequest) -> HttpResponseBase:
        # A first load (the whole file's hash when no manifest gives its ETag)
        # or a reload after a change: in a thread, so that the event loop
        # answers other requests meanwhile (staticserve.loads).
        await self._loads.load(request.path_info)
        return await self._respond(request)  # type: ignore[no-any-return]

    def _respond(self, request: HttpRequest) -> Any:
        response = self.serve(request)
        if response is not None:
            if self.is_async:
                return _ready(response)
            return response
        if self.files.fallbacks:
            url = self.files.fallback_url(request.path_info, request.method or "GET")
            if url is not None:
                if self.is_async:
                    return self._afallback(request, url)
                return self.fallback(request, url, self.get_response(request))
        if self.miss_header is not None and request.path_info.startswith(self.files.miss_prefixes):
            # A miss under the static prefix: Django answers it, but a cache
            # must not keep its error (a 404 page) any more than ours.
            if self.is_async:
                return self._amark_miss(request)
            return _mark_miss(self.get_response(request), self.miss_header)
        return self.get_response(request)

    async def _amark_miss(self, request: HttpRequest) -> HttpResponseBase:
        return _mark_miss(await self.get_response(request), self.miss_header)  # type: ignore[arg-type]

    async def _afallback(self, request: HttpRequest, url: str) -> HttpResponseBase:
        return self.fallback(request, url, await self.get_response(request))

    def fallback(
        self, request: HttpRequest, url: str, response: HttpResponseBase
    ) -> HttpResponseBase:
        """Django's 404 to a navigation that accepts HTML becomes the SPA's fallback file.

        Every other answer of a view (an API's JSON, a redirect, a page) stands.
        """
        if response.status_code != 404:
            if self.miss_header is not None and request.path_info.startswith(
                self.files.miss_prefixes
            ):
                return _mark_miss(response, self.miss_header)
            return response
        meta = request.META
        headers = {name: meta[key] for key, name in _META_KEYS if key in meta}
        method = request.method or "GET"
        plan = self.files.plan_fallback(url, method, headers, meta.get("HTTP_ACCEPT"))
        if plan is None:
            return response
        if plan.body.__class__ is bytes:
            return _bytes_response(plan)
        reader = BodyReader(plan.body, self.chunk_size)
        if not reader.open():
            return response
        return StaticFileResponse(plan, reader, self.chunk_size, isinstance(request, ASGIRequest))

    def serve(self, request: HttpRequest) -> HttpResponseBase | None:
        """The static response for ``request``, or None to hand it to Django."""
        path = request.path_info
        files = self.files
        if not path.startswith(files.prefixes):
            return None
        meta = request.META
        headers = {name: meta[key] for key, name in _META_KEYS if key in meta}
        method = request.method or "GET"
        query = meta.get("QUERY_STRING", "")
        plan = files.plan(path, method, headers, query)
        attempts = 0
        while plan is not None:
            if plan.body.__class__ is bytes:
                return _bytes_response(plan)
            reader = BodyReader(plan.body, self.chunk_size)
            if reader.open():
                # ASGI handlers (even for a sync middleware chain) want an async body.
                is_asgi = isinstance(request, ASGIRequest)
                return StaticFileResponse(plan, reader, self.chunk_size, is_asgi)
            attempts += 1
            if attempts >= REPLAN_ATTEMPTS:
                break
            plan = files.replan(path, method, headers, query)
        return None


def _mark_miss(response: HttpResponseBase, header: tuple[str, str]) -> HttpResponseBase:
    """Add the miss Cache-Control to an error response that sets none."""
    if marks_miss(response.status_code, response.headers):
        response[header[0]] = header[1]
    return response


async def _ready(response: HttpResponseBase) -> HttpResponseBase:
    return response
