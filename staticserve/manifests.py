"""Bundler manifests: which files in a root a front-end build says are hashed.

Read once per root at index time (and by ``staticserve build`` per source):

* Vite 5+ ``.vite/manifest.json`` and Vite 2-4 ``manifest.json``
  (``build.manifest: true``): ``{source: {"file": out, "css": [...],
  "assets": [...], "src": source}}``;
* webpack-manifest-plugin ``manifest.json``: ``{"main.js": "/main.1a2b3c4d.js"}``
  (values carry ``publicPath``);
* webpack-assets-manifest ``assets-manifest.json`` (values a name, or
  ``{"src": name, "integrity": ...}``), Create React App's
  ``asset-manifest.json`` (``{"files": {...}}``).

A manifest lists every output, not only hashed ones (webpack lists
``index.html`` and files copied verbatim), so an output counts as hashed when
its name passes :func:`staticserve.hashed_names.is_hashed_name`, or when the
bundler *renamed* its source (``logo.png`` became ``logo-DYM68Rp9.png``) by
inserting a token that is not a plain word (``logo-BTIUQOTL.png`` is passed
over: all capitals, it could be an output pattern's fixed text). The manifest
thus catches hashes the name test alone must leave out to stay free of false
positives, and never makes a name immutable that the bundler did not rename.

A file named ``manifest.json`` may be something else entirely (a web app
manifest): anything that is not one of the shapes above is ignored. A bundler
manifest that is not valid JSON is logged and ignored, since the name test
still applies.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import re
from collections.abc import Iterator
from typing import Any

from .hashed_names import WEB_EXTENSIONS, is_hashed_name

logger = logging.getLogger("staticserve")

#: Root-relative places bundler manifests are written by default.
BUNDLER_MANIFESTS = (
    ".vite/manifest.json",
    "manifest.json",
    "assets-manifest.json",
    "asset-manifest.json",
)
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_TOKEN = re.compile(r"[.-]([A-Za-z0-9_-]{6,32})(?:\.chunk)?\.[A-Za-z0-9]+(?:\.map)?$")
_WORDISH = re.compile(r"[a-z]+|[A-Z][a-z]+|[A-Z]+|\d+")
_URL_HEAD = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^/]*")


def _stem(name: str) -> str:
    base = name.rpartition("/")[2]
    return base.rpartition(".")[0] or base


def renamed_with_hash(output: str, source: str | None) -> bool:
    """Did the bundler turn ``source`` into ``output`` by adding a hash token?"""
    if is_hashed_name(output):
        return True
    if source is None:
        return False
    base = output.rpartition("/")[2]
    ext = base[base.rfind(".") :].lower() if "." in base else ""
    if ext not in WEB_EXTENSIONS or _stem(output) == _stem(source):
        return False
    match = _TOKEN.search(base)
    # Not a word the user's output pattern could have added ("-bundle",
    # "-Compiled", "-LEGACY", "-2024"): those are fixed text, not a hash.
    return bool(match and not _WORDISH.fullmatch(match.group(1)))


def _vite_outputs(data: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    for key, chunk in data.items():
        if not isinstance(chunk, dict) or not isinstance(chunk.get("file"), str):
            continue
        src = chunk.get("src")
        yield chunk["file"], src if isinstance(src, str) else key
        for listed in ("css", "assets"):
            for out in chunk.get(listed) or ():
                if isinstance(out, str):
                    yield out, None


def _webpack_outputs(data: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    for key, value in data.items():
        if key == "files" and isinstance(value, dict):  # Create React App
            yield from _webpack_outputs(value)
        elif isinstance(value, str):
            yield value, key
        elif isinstance(value, dict) and isinstance(value.get("src"), str):
            yield value["src"], key  # webpack-assets-manifest with integrity


def _outputs(data: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
    if any(isinstance(v, dict) and "file" in v for v in data.values()):
        yield from _vite_outputs(data)
    else:
        yield from _webpack_outputs(data)


def _in_root(root: str, url: str) -> str | None:
    """The root-relative name an output URL denotes, or None if no such file.

    webpack values carry ``publicPath`` (``/static/main.js``,
    ``https://cdn/x/main.js``, ``auto/main.js``): leading segments are dropped
    until a file in the root matches.
    """
    name = _URL_HEAD.sub("", url.split("?", 1)[0].split("#", 1)[0]).lstrip("/")
    parts = [p for p in name.split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        return None
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if os.path.isfile(os.path.join(root, *parts[start:])):
            return candidate
    return None


def read_manifest_file(path: str) -> dict[str, Any] | None:
    """A manifest's JSON object, or None (missing, not JSON, not an object)."""
    try:
        if os.path.getsize(path) > _MAX_MANIFEST_BYTES:
            logger.warning("staticserve: ignoring bundler manifest %s: larger than 64 MiB", path)
            return None
        with open(path, "rb") as f:
            data = json.loads(f.read())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning(
            "staticserve: ignoring bundler manifest %s: %s; hashed names are still "
            "recognised by the name test (rebuild the front end to fix it)",
            path,
            exc,
        )
        return None
    return data if isinstance(data, dict) else None


def bundler_manifests(root: str | os.PathLike[str]) -> dict[str, set[str]]:
    """Each bundler manifest in ``root`` that names hashed files (its root-relative
    name, as in :data:`BUNDLER_MANIFESTS`) with the root-relative names of those files."""
    root = os.fspath(root)
    found: dict[str, set[str]] = {}
    for rel in BUNDLER_MANIFESTS:
        data = read_manifest_file(os.path.join(root, *rel.split("/")))
        if data is None:
            continue
        hashed = set()
        for output, source in _outputs(data):
            name = _in_root(root, output)
            if name is not None and renamed_with_hash(name, source):
                hashed.add(name)
        if hashed:
            found[rel] = hashed
    return found


def bundler_hashed_names(root: str | os.PathLike[str]) -> set[str]:
    """Root-relative names of the hashed files the bundler manifests in ``root`` list."""
    return set().union(*bundler_manifests(root).values())


def already_hashed(sources: list[tuple[str, str | os.PathLike[str]]], names: list[str]) -> set[str]:
    """Collected ``names`` that are bundler output with a hash already.

    ``sources`` are ``(prefix, directory)`` pairs as ``staticserve build`` mounts
    them (prefix "" for the root). A name counts when a bundler manifest in
    its source lists it as hashed, or when its name passes the name test.
    """
    wanted = set(names)
    found = {n for n in names if is_hashed_name(n)}
    for prefix, directory in sources:
        head = prefix.strip("/") + "/" if prefix.strip("/") else ""
        for name in bundler_hashed_names(directory):
            full = posixpath.join(head, name) if head else name
            if full in wanted:
                found.add(full)
    return found
