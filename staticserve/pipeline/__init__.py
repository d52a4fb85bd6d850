"""The deploy-time build: collect, hash + rewrite, compress, manifest.

See ``docs/build.md``. Each step is a plain function usable on its own
(the ``staticserve build`` CLI and the Django storage both call them).
"""

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
