"""The deploy-time build: collect, hash + rewrite, compress, manifest.

See ``docs/build.md``. Each step is a plain function usable on its own
(the ``staticserve build`` CLI and the Django storage both call them).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._files import BuildError, BuildWarning
    from .collect import CollectResult, Source, collect, find, find_files, parse_source
    from .compress import CompressSummary, available_encodings, compress_bytes, compress_tree
    from .hashing import (
        HashResult,
        MissingReference,
        find_references,
        hash_and_rewrite,
        hashed_name,
        missing_references_report,
    )
    from .manifest import MANIFEST_NAME, Manifest, read_manifest, served_names, write_manifest

# Loaded on first use (PEP 562): `staticserve build` with nothing to do
# imports only the modules it runs, not hashing's regexes or the process pool.
_WHERE = {
    "BuildError": "_files",
    "BuildWarning": "_files",
    "CollectResult": "collect",
    "Source": "collect",
    "collect": "collect",
    "find": "collect",
    "find_files": "collect",
    "parse_source": "collect",
    "CompressSummary": "compress",
    "available_encodings": "compress",
    "compress_bytes": "compress",
    "compress_tree": "compress",
    "HashResult": "hashing",
    "MissingReference": "hashing",
    "find_references": "hashing",
    "hash_and_rewrite": "hashing",
    "hashed_name": "hashing",
    "missing_references_report": "hashing",
    "MANIFEST_NAME": "manifest",
    "Manifest": "manifest",
    "read_manifest": "manifest",
    "served_names": "manifest",
    "write_manifest": "manifest",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "MANIFEST_NAME",
    "BuildError",
    "BuildWarning",
    "CollectResult",
    "CompressSummary",
    "HashResult",
    "Manifest",
    "MissingReference",
    "Source",
    "available_encodings",
    "collect",
    "compress_bytes",
    "compress_tree",
    "find",
    "find_files",
    "find_references",
    "hash_and_rewrite",
    "hashed_name",
    "missing_references_report",
    "parse_source",
    "read_manifest",
    "served_names",
    "write_manifest",
]
