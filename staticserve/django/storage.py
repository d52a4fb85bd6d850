"""collectstatic storages that compress, and hash with ES-module and SRI support.

* :class:`CompressedStaticFilesStorage`: Django's ``StaticFilesStorage`` plus
  ``.br`` / ``.gz`` (/ ``.zst``) siblings written by
  :func:`staticserve.pipeline.compress_tree` (a process pool).
* :class:`CompressedManifestStaticFilesStorage`: Django's
  ``ManifestStaticFilesStorage`` (same hashed names, same manifest ``paths``
  and ``hash``) plus

  - ES-module ``import``/``export ... from "./x.js"``, ``import "./x.js"`` and
    ``import("./x.js")`` paths rewritten to hashed names (``*.js``, ``*.mjs``);
  - a missing referenced file (a source map that was not shipped, a typo in
    ``url()``) logged with file and line and left as written, instead of
    aborting collectstatic (``strict_references=True`` aborts, naming them);
  - the manifest's ``files`` entry per served file (size, SRI integrity,
    Content-Type) written with :mod:`staticserve.pipeline.manifest`;
  - compressed siblings, and optionally only hashed files kept;
  - the hashed files of the last ``keep_releases`` collectstatic runs kept
    on a persistent STATIC_ROOT, older releases' hashed files pruned after
    the new manifest is in place (:mod:`staticserve.pipeline.releases`).

Options come from ``STORAGES["staticfiles"]["OPTIONS"]`` or, when absent,
the STATICSERVE_* settings (see docs/django.md).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage, StaticFilesStorage
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from ..media_types import extension_of
from ..pipeline import BuildWarning, compress_tree
from ..pipeline.cache import BuildCache, settings_key
from ..pipeline.compress import available_encodings
from ..pipeline.manifest import build_manifest, dumps, file_entry
from ..pipeline.releases import History, history_from, plan_release, prune
from . import settings as ss_settings

logger = logging.getLogger("staticserve")

# ES-module specifiers that name files: relative (./, ../) or root-relative.
_SPEC = r"""\.{0,2}/[^"'`\n]*"""
ES_MODULE_PATTERNS: tuple[tuple[str, str], ...] = (
    # import x from "./a.js"; import {a, b} from './a.js'; export * from "./a.js"
    (
        r"""(?P<matched>(?P<head>\b(?:import|export)\b[^;'"`()]*?\bfrom\s*(?P<q>["']))"""
        r"""(?P<url>""" + _SPEC + r""")(?P<tail>(?P=q)))""",
        "%(head)s%(url)s%(tail)s",
    ),
    # import "./side-effect.js"
    (
        r"""(?P<matched>(?P<head>\bimport\s*(?P<q>["']))(?P<url>""" + _SPEC + r""")"""
        r"""(?P<tail>(?P=q)))""",
        "%(head)s%(url)s%(tail)s",
    ),
    # import("./lazy.js") with a literal
    (
        r"""(?P<matched>(?P<head>\bimport\s*\(\s*(?P<q>["'`]))(?P<url>""" + _SPEC + r""")"""
        r"""(?P<tail>(?P=q)\s*\)))""",
        "%(head)s%(url)s%(tail)s",
    ),
)
_JS_SOURCE_MAP = (
    r"(?m)^(?P<matched>//# (?-i:sourceMappingURL)=(?P<url>.*))$",
    "//# sourceMappingURL=%(url)s",
)


def _option(value: Any, name: str) -> Any:
    return ss_settings.setting(name) if value is None else value


def _names_to_compress(names: Iterable[str]) -> list[str]:
    skip = {
        e if e.startswith(".") else "." + e
        for e in (ss_settings.setting("SKIP_COMPRESS_EXTENSIONS") or ())
    }
    return sorted({n for n in names if extension_of(n) not in skip})


class _CompressMixin:
    """Writes compressed siblings of the files collectstatic stored."""

    def __init__(
        self,
        *args: Any,
        compress_encodings: Iterable[str] | None = None,
        compress_workers: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.compress_encodings = _option(compress_encodings, "COMPRESS_ENCODINGS")
        self.compress_workers = _option(compress_workers, "COMPRESS_WORKERS")

    #: The manifest the build cache is tied to (None: this storage writes none).
    cache_manifest: str | None = None

    def _cache_key(self) -> str:
        return settings_key(
            kind=f"django:{type(self).__name__}",
            encodings=list(self.compress_encodings or available_encodings()),
            min_saving=float(ss_settings.setting("COMPRESS_MIN_SAVING")),
        )

    def load_build_cache(self) -> None:
        """Read STATIC_ROOT's build cache, before post-processing changes anything."""
        loaded = BuildCache.load(self.location, self._cache_key(), self.cache_manifest)  # type: ignore[attr-defined]
        if loaded.warning is not None:
            logger.warning("staticserve: %s", loaded.warning)
        self._build_cache = loaded.cache

    def compress(self, names: Iterable[str]) -> None:
        # Unchanged files (same stat, same siblings) are not read again, and
        # known content is not recompressed: see staticserve.pipeline.cache.
        cache = getattr(self, "_build_cache", None) or BuildCache(self._cache_key())
        names = _names_to_compress(names)
        summary = compress_tree(
            self.location,  # type: ignore[attr-defined]
            names,
            encodings=self.compress_encodings,
            min_saving=float(ss_settings.setting("COMPRESS_MIN_SAVING")),
            workers=self.compress_workers,
            cache=cache,
        )
        cache.save(self.location, names, self.cache_manifest)  # type: ignore[attr-defined]
        for warning in summary.warnings:
            logger.warning("staticserve: %s", warning)
        logger.info("staticserve: compressed static files\n%s", summary.table())


class CompressedStaticFilesStorage(_CompressMixin, StaticFilesStorage):
    """StaticFilesStorage that also writes ``.br`` / ``.gz`` (/ ``.zst``) siblings."""

    def post_process(
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str, bool]]:
        if dry_run:
            return
        self.load_build_cache()
        self.compress(paths)
        # One report per file, so collectstatic's "N post-processed" is true.
        for name in sorted(paths):
            yield name, name, True


class CompressedManifestStaticFilesStorage(_CompressMixin, ManifestStaticFilesStorage):
    """ManifestStaticFilesStorage plus ES modules, lenient references, SRI data, compression."""

    #: Rewrite ES-module import/export paths (subclass and set False to match Django).
    es_modules = True
    support_js_module_import_aggregation = False  # ours replace Django's patterns

    @property
    def cache_manifest(self) -> str | None:  # type: ignore[override]
        return self.manifest_name

    def __init__(
        self,
        *args: Any,
        manifest_strict: bool | None = None,
        keep_only_hashed_files: bool | None = None,
        strict_references: bool | None = None,
        es_modules: bool | None = None,
        keep_releases: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.es_modules = _option(es_modules, "ES_MODULES")
        patterns = list(self.patterns)
        if self.es_modules:
            patterns.append(("*.js", ES_MODULE_PATTERNS))
            patterns.append(("*.mjs", (_JS_SOURCE_MAP, *ES_MODULE_PATTERNS)))
        self.patterns = tuple(patterns)
        super().__init__(*args, **kwargs)
        self.manifest_strict = _option(manifest_strict, "MANIFEST_STRICT")
        self.keep_only_hashed_files = _option(keep_only_hashed_files, "KEEP_ONLY_HASHED_FILES")
        self.strict_references = _option(strict_references, "STRICT_REFERENCES")
        #: Releases whose hashed files stay in STATIC_ROOT (this one included).
        self.keep_releases = _option(keep_releases, "KEEP_RELEASES")
        if not isinstance(self.keep_releases, int) or self.keep_releases < 1:
            raise ImproperlyConfigured(
                f"STATICSERVE_KEEP_RELEASES = {self.keep_releases!r}: give a whole number of "
                "releases >= 1 (3 keeps this release and the two before)"
            )
        self._prune: list[str] = []
        #: References to missing files found by the last post_process.
        self.missing_references: list[BuildWarning] = []
        self._processed: list[str] = []

    # -- references to missing files -------------------------------------

    def url_converter(self, name: str, hashed_files: dict, template: str | None = None):  # type: ignore[no-untyped-def]
        convert = super().url_converter(name, hashed_files, template)

        def converter(matchobj):  # type: ignore[no-untyped-def]
            try:
                return convert(matchobj)
            except ValueError as exc:
                line = matchobj.string.count("\n", 0, matchobj.start("url")) + 1
                url = matchobj.group("url")
                if self.strict_references:
                    raise ValueError(
                        f"{name}:{line}: reference to missing file {url!r} ({exc})"
                    ) from None
                warning = BuildWarning(name, line, f"reference to missing file {url!r} left as is")
                if warning not in self.missing_references:
                    self.missing_references.append(warning)
                    logger.warning("staticserve: %s", warning)
                return matchobj.group(0)

        return converter

    # -- post-processing --------------------------------------------------

    def post_process(
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str | None, Any]]:
        self.missing_references = []
        self._processed = []
        if dry_run:
            return
        self.load_build_cache()  # while the previous manifest is still in place
        for name, hashed_name, processed in super().post_process(paths, dry_run, **options):
            yield name, hashed_name, processed
        # Django's generator saved the manifest (save_manifest below) on its way out.
        originals = sorted(paths)
        hashed = sorted({v for k, v in self.hashed_files.items() if k in paths})
        if self.keep_only_hashed_files:
            for name in originals:
                if self.hashed_files.get(name, name) != name and self.exists(name):
                    self.delete(name)
            self.compress(hashed)
        else:
            self.compress([*originals, *hashed])
        # Last: the new manifest is in place and compressed, older releases can go.
        prune(self.location, self._prune)
        self._prune = []

    def save_manifest(self) -> None:
        """Django's manifest (same ``paths`` and ``hash``) plus a ``files`` entry per file."""
        served = set(self.hashed_files.values())
        if not self.keep_only_hashed_files:
            served.update(self.hashed_files)
        files = {}
        for name in sorted(served):
            if self.exists(name):
                files[name] = file_entry(Path(self.path(name)), name)
        # The manifest still on disk is the previous release: read its history first.
        history = self._history()
        present = set(files) | {n for n in history.hashed if self.exists(n)}
        plan = plan_release(history, self.hashed_files, files, self.keep_releases, present)
        self._prune = plan.prune
        payload = build_manifest(self.hashed_files, plan.files, releases=plan.releases)
        self.manifest_hash = payload["hash"]
        if self.manifest_storage.exists(self.manifest_name):
            self.manifest_storage.delete(self.manifest_name)
        self.manifest_storage._save(self.manifest_name, ContentFile(dumps(payload)))

    def _history(self) -> History:
        import json

        content = self.read_manifest()
        if not content:
            return History()
        try:
            return history_from(json.loads(content))
        except ValueError as exc:
            logger.warning(
                "staticserve: previous manifest unreadable (%s); earlier releases are kept, "
                "none pruned",
                exc,
            )
            return History()

    def read_files_data(self) -> dict[str, dict]:
        """The manifest's ``files`` entries ({} for a manifest without them)."""
        import json

        content = self.read_manifest()
        if not content:
            return {}
        try:
            files = json.loads(content).get("files")
        except (ValueError, AttributeError):
            return {}
        return files if isinstance(files, dict) else {}
