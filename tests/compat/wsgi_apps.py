"""The WSGI app each gunicorn of the differential test runs: every config, mounted by name.

``COMPAT_IMPL`` is ``whitenoise`` (the real one) or ``staticserve`` (the
compatibility module); ``COMPAT_BASE`` is the directory holding the roots
named in :data:`tests.compat.cases.CONFIGS`. ``/<config>/rest`` is answered
by that config's ``WhiteNoise`` with ``PATH_INFO=/rest``; anything it does not
serve reaches a tiny app that names the request.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.util import shift_path_info

from tests.compat.cases import CONFIGS

if os.environ.get("COMPAT_IMPL") == "whitenoise":
    from whitenoise import WhiteNoise
else:
    from staticserve.compat.whitenoise import WhiteNoise  # type: ignore[assignment]

BASE = os.environ.get("COMPAT_BASE", "")


def fallback(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = f"app: {environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _mounted() -> dict[str, Any]:
    apps = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # WhiteNoise warns about roots created later
        for name, (root, options) in CONFIGS.items():
            options = dict(options)
            prefix = options.pop("prefix", None)
            extra_root = options.pop("extra_root", None)
            apps[name] = WhiteNoise(
                fallback, root=os.path.join(BASE, root), prefix=prefix, **options
            )
            if extra_root:
                apps[name].add_files(os.path.join(BASE, extra_root))
    return apps


APPS = _mounted() if BASE else {}


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    name = shift_path_info(environ)
    mounted = APPS.get(name or "")
    if mounted is None:
        start_response("404 Not Found", [("Content-Length", "0")])
        return []
    return mounted(environ, start_response)  # type: ignore[no-any-return]
