"""Subresource Integrity values of static files, as the middleware serves them.

From the manifest's ``files`` data when the storage wrote it (the hashed file's
entry); otherwise computed from the file that is served at the URL (the
finders' file under STATICSERVE_USE_FINDERS, else the file in STATIC_ROOT)
and cached by (path, size, mtime).
"""

from __future__ import annotations

import functools
import json
import os
import threading
from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage

from ..pipeline.hashing import integrity as sri_of
from . import settings as ss_settings

_lock = threading.Lock()
_manifest_cache: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}


def _manifest_files(path: str) -> dict[str, Any]:
    try:
        st = os.stat(path)
    except OSError:
        return {}
    key = (st.st_size, st.st_mtime_ns)
    cached = _manifest_cache.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        with open(path, "rb") as f:
            files = json.loads(f.read()).get("files") or {}
    except (OSError, ValueError, AttributeError):
        files = {}
    with _lock:
        _manifest_cache[path] = (key, files)
    return files


@functools.lru_cache(maxsize=1024)
def _file_integrity(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return sri_of(f.read())


def _computed(path: str) -> str:
    st = os.stat(path)
    return _file_integrity(path, st.st_size, st.st_mtime_ns)


def served_name(name: str) -> str:
    """The name under STATIC_URL that ``{% static name %}`` points at."""
    if settings.DEBUG or not hasattr(staticfiles_storage, "stored_name"):
        return name
    if not hasattr(staticfiles_storage, "hashed_files"):
        return name
    return str(staticfiles_storage.stored_name(name))


def integrity_for(name: str) -> str:
    """``sha384-...`` of the file served for ``{% static name %}``; ValueError if none."""
    name = name.split("?", 1)[0].split("#", 1)[0]
    if ss_settings.setting("USE_FINDERS"):
        from django.contrib.staticfiles import finders

        found = finders.find(name)
        if found:
            return _computed(found if isinstance(found, str) else found[0])
    served = served_name(name)
    root = getattr(settings, "STATIC_ROOT", None)
    if root:
        entry = _manifest_files(os.path.join(root, "staticfiles.json")).get(served)
        if isinstance(entry, dict) and isinstance(entry.get("integrity"), str):
            return str(entry["integrity"])
        path = os.path.join(root, *served.split("/"))
        if os.path.isfile(path):
            return _computed(path)
    raise ValueError(
        f"staticserve: no static file {name!r} to compute its integrity from; check the "
        "name, or run `manage.py collectstatic`"
    )
