"""WSGI adapter: environ → plan request; plan → start_response + iterable.

A whole file is handed to ``wsgi.file_wrapper`` when the server offers one,
which lets gunicorn ``sendfile`` it; ranges and multipart bodies are read in
``chunk_size`` pieces. Every opened file is closed when the server closes the
iterable, whether or not the body was fully sent.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

from . import speedups
from .files import BodyReader
from .http import COMPLEX_HEADERS, REQUEST_HEADERS, marks_miss, respond_plain
from .plan import FileSlice, Plan
from .service import REPLAN_ATTEMPTS, StaticFiles

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _environ_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


_WANTED = {_environ_key(name): name for name in REQUEST_HEADERS}
_RANGE, _IF_MATCH, _IF_UNMODIFIED_SINCE = (_environ_key(name) for name in COMPLEX_HEADERS)


def _wsgi_form(prefix: str) -> str:
    """A prefix as PEP 3333 hands paths over: UTF-8 bytes read as latin-1."""
    return prefix.encode("utf-8").decode("latin-1")


class StaticServeWSGI(speedups.WSGIFront):
    """WSGI middleware serving static files in front of ``app``.

    ``StaticServeWSGI(app, root="static", prefix="/static/", **options)``;
    with ``app=None`` it answers 404 to everything else.
    """

    app: WSGIApp | None  # held by the C front where it is built (speedups.py)

    def __init__(
        self,
        app: WSGIApp | None = None,
        root: str | os.PathLike[str] | None = None,
        prefix: str = "/static/",
        *,
        files: StaticFiles | None = None,
        **options: Any,
    ) -> None:
        self.app = app
        self.files = files if files is not None else StaticFiles(root, prefix, **options)
        self._set_prefixes()

    def _set_prefixes(self) -> None:
        # Noted so that a root added on the files themselves is seen (__call__).
        self._prefixes_of = self.files.prefixes
        self._prefixes = tuple(_wsgi_form(p) for p in self.files.prefixes)
        self._miss_prefixes = tuple(_wsgi_form(p) for p in self.files.miss_prefixes)
        self._miss_header = self.files.miss_header_str()
        # The C fast path the front asks first (staticserve.speedups), or None:
        # then the call is all Python.
        self._fast = self.files.fast_lookup()

    def add_files(self, root: str | os.PathLike[str], prefix: str = "/static/") -> None:
        """Serve another directory under another URL prefix."""
        self.files.add_files(root, prefix)

    def _serve(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """The Python path: all of the call where ``_speedups`` is not built or
        turned off, else what the C front hands on (see speedups.py)."""
        if self.files.prefixes is not self._prefixes_of:
            self._set_prefixes()  # files.add_files() was called directly
        raw_path = environ.get("PATH_INFO") or "/"
        if raw_path.startswith(self._prefixes):
            path = raw_path if raw_path.isascii() else _utf8_path(raw_path)
            if path is not None:
                # The fast path, for the usual request (a fetch or a browser's
                # revalidation of a loaded file, or a miss): the index first,
                # so that a miss reads no header; then no header that only the
                # general path handles.
                entry = self.files.find(path)
                if entry is not None:
                    method = environ.get("REQUEST_METHOD", "GET")
                    plan: Plan | Literal[False] | None = False
                    if (
                        entry is not False
                        and _RANGE not in environ
                        and _IF_MATCH not in environ
                        and _IF_UNMODIFIED_SINCE not in environ
                    ):
                        plan = respond_plain(
                            entry,
                            method,
                            environ.get("HTTP_ACCEPT_ENCODING"),
                            environ.get("HTTP_IF_NONE_MATCH"),
                            environ.get("HTTP_IF_MODIFIED_SINCE"),
                        )
                        if plan is not False and plan.body.__class__ is bytes:
                            start_response(plan.status_line, plan.str_headers())
                            return [plan.body]
                    response = self._general(plan, path, method, environ, start_response)
                    if response is not None:
                        return response
                elif self.files.fallbacks:
                    response = self._fallback(path, raw_path, environ, start_response)
                    if response is not None:
                        return response
            if self.app is not None and raw_path.startswith(self._miss_prefixes):
                # A miss under the static prefix: the app answers it, but a
                # cache must not keep its error any more than ours.
                marked = _marking_start_response(start_response, self._miss_header)  # type: ignore[arg-type]
                return self.app(environ, marked)
        if self.app is not None:
            return self.app(environ, start_response)
        not_found = self.files.errors.not_found
        start_response(not_found.status_line, not_found.str_headers())
        return [not_found.body]  # type: ignore[list-item]

    if not speedups.C_FRONTS:
        __call__ = _serve  # no C front to inherit the call from

    def _general(
        self,
        plan: Plan | Literal[False] | None,
        path: str,
        method: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes] | None:
        """Everything but the fast path: ``plan`` is the fast path's answer (a
        file-backed plan), or False for the general :meth:`StaticFiles.plan`.
        None when no file answers (the caller then hands the miss on)."""
        files = self.files
        headers: dict[str, str] | None = None
        if plan is False:
            headers = _request_headers(environ)
            plan = files.plan(path, method, headers, environ.get("QUERY_STRING", ""))
        attempts = 0
        while plan is not None:
            if plan.body.__class__ is bytes:
                start_response(plan.status_line, plan.str_headers())
                return [plan.body]
            response = self._file_response(plan, environ, start_response)
            if response is not None:
                return response
            attempts += 1
            if attempts >= REPLAN_ATTEMPTS:
                break
            if headers is None:
                headers = _request_headers(environ)
            plan = files.replan(path, method, headers, environ.get("QUERY_STRING", ""))
        if files.fallbacks:
            return self._fallback(path, environ.get("PATH_INFO") or "/", environ, start_response)
        return None

    def _fallback(
        self,
        path: str,
        raw_path: str,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
    ) -> Iterable[bytes] | None:
        """A navigation no file answers: the app first; on its 404, the fallback file.

        None when the fallback does not apply (the caller goes on as usual).
        """
        method = environ.get("REQUEST_METHOD", "GET")
        url = self.files.fallback_url(path, method)
        if url is None:
            return None
        headers = _request_headers(environ)
        plan = self.files.plan_fallback(url, method, headers, environ.get("HTTP_ACCEPT"))
        if plan is None:
            return None
        if self.app is not None:
            out = start_response
            if raw_path.startswith(self._miss_prefixes):
                out = _marking_start_response(start_response, self._miss_header)  # type: ignore[arg-type]
            answer = _app_unless_404(self.app, environ, out)
            if answer is not None:
                return answer
        if plan.body.__class__ is bytes:
            start_response(plan.status_line, plan.str_headers())
            return [plan.body]
        response = self._file_response(plan, environ, start_response)
        if response is None:
            not_found = self.files.errors.not_found
            start_response(not_found.status_line, not_found.str_headers())
            return [not_found.body]  # type: ignore[list-item]
        return response

    def _file_response(
        self, plan: Plan, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes] | None:
        reader = BodyReader(plan.body, self.files.config.chunk_size)
        if not reader.open():
            return None
        start_response(plan.status_line, plan.str_headers())
        body = plan.body
        file_wrapper = environ.get("wsgi.file_wrapper")
        if file_wrapper is not None and body.__class__ is FileSlice and body.is_whole_file:
            # The wrapper owns (and closes) the file; gunicorn sendfile()s it,
            # bounded by our Content-Length.
            wrapped: Iterable[bytes] = file_wrapper(reader.file, self.files.config.chunk_size)
            return wrapped
        return _ChunkIterator(reader)


def _marking_start_response(
    start_response: Callable[..., Any], header: tuple[str, str]
) -> Callable[..., Any]:
    """``start_response`` adding ``header`` (the miss Cache-Control) to an error without one."""

    def marked(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        if marks_miss(status, [name for name, _ in headers]):
            headers = [*headers, header]
        return start_response(status, headers, exc_info)

    return marked


def _app_unless_404(
    app: WSGIApp, environ: dict[str, Any], start_response: Callable[..., Any]
) -> Iterable[bytes] | None:
    """The app's response, or None (its body closed unsent) if it answered 404.

    The status is known when the app calls ``start_response``, which PEP 3333
    lets it do as late as its first body chunk: then one chunk is read ahead.
    """
    state: list[str] = []  # "404" once the app answered 404, "passed" otherwise

    def guarded(status: str, response_headers: list[Any], exc_info: Any = None) -> Any:
        if status[:3] == "404" and not state:
            state.append("404")
            return lambda data: None  # a legacy write() into the swallowed 404
        state.append("passed")
        return start_response(status, response_headers, exc_info)

    result = app(environ, guarded)
    if not state:
        iterator = iter(result)
        first = next(iterator, None)
        if state and state[0] == "404":
            _close(result)
            return None
        return _Prepended(first, iterator, result)
    if state[0] == "404":
        _close(result)
        return None
    return result


def _close(result: Iterable[bytes]) -> None:
    close = getattr(result, "close", None)
    if close is not None:
        close()


class _Prepended:
    """An app's iterable whose first chunk was read ahead; closes the original."""

    def __init__(self, first: bytes | None, rest: Iterator[bytes], result: Iterable[bytes]) -> None:
        self._first = first
        self._rest = rest
        self._result = result

    def __iter__(self) -> Iterator[bytes]:
        if self._first is not None:
            yield self._first
        yield from self._rest

    def close(self) -> None:
        _close(self._result)


class _ChunkIterator:
    """The body as an iterable the server closes; the file closes with it."""

    __slots__ = ("_reader",)

    def __init__(self, reader: BodyReader) -> None:
        self._reader = reader

    def __iter__(self) -> Iterator[bytes]:
        read = self._reader.read
        chunk = read()
        while chunk:
            yield chunk
            chunk = read()

    def close(self) -> None:
        self._reader.close()


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request headers :func:`~staticserve.http.respond` reads."""
    return {key: environ[wsgi_key] for wsgi_key, key in _WANTED.items() if wsgi_key in environ}


def _utf8_path(raw_path: str) -> str | None:
    """A non-ASCII PATH_INFO (UTF-8 bytes read as latin-1) decoded; None if not UTF-8."""
    try:
        return raw_path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None  # no indexed name can match
