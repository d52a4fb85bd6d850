"""collectstatic storages that compress, and hash with ES-module and SRI support.

* :class:`CompressedStaticFilesStorage`: Django's ``StaticFilesStorage`` plus
  ``.br`` / ``.gz`` (/ ``.zst``) siblings written by
  :func:`staticserve.pipeline.compress_tree` (a process pool).
* :class:`CompressedManifestStaticFilesStorage`: Django's
  ``ManifestStaticFilesStorage`` (same hashed names, same manifest ``paths``
  and ``hash``) plus

  - ES-module imports and exports rewritten with Django's own patterns (those
    of ``support_js_module_import_aggregation``, applied once whether or not
    the flag is set) in ``*.js`` and ``*.mjs``: byte-identical to Django;
  - every reference to a missing file of the run collected into one report
    (file, line, column, reference as written); collectstatic then fails as
    Django's does (``MISSING_REFERENCES = "warn"`` logs it instead; missing
    source maps only warn unless ``MISSING_SOURCE_MAPS = "error"``);
  - ``staticfiles.json`` serialised exactly as Django's ``save_manifest``
    does, plus a ``files`` entry per served file (size, SRI integrity,
    Content-Type);
  - compressed siblings, and optionally only hashed files kept;
  - the hashed files of the last ``keep_releases`` collectstatic runs kept
    on a persistent STATIC_ROOT, older releases' hashed files pruned after
    the new manifest is in place (:mod:`staticserve.pipeline.releases`).

Options come from ``STORAGES["staticfiles"]["OPTIONS"]`` or, when absent,
the STATICSERVE_* settings (see docs/django.md).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import posixpath
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag

from django.conf import settings
from django.contrib.staticfiles.storage import (
    HashedFilesMixin,
    ManifestStaticFilesStorage,
    StaticFilesStorage,
)
from django.contrib.staticfiles.utils import matches_patterns
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from ..hashed_names import is_hashed_name
from ..manifests import bundler_hashed_names
from ..media_types import extension_of
from ..pipeline import compress_tree
from ..pipeline.cache import BuildCache, settings_key
from ..pipeline.compress import available_encodings
from ..pipeline.hashing import MissingReference, line_and_column, missing_references_report
from ..pipeline.manifest import file_entry
from ..pipeline.releases import History, history_from, plan_release, prune
from . import settings as ss_settings

logger = logging.getLogger("staticserve")

_DJANGO_JS_PATTERNS = dict(HashedFilesMixin.patterns)["*.js"]  # the sourceMappingURL pattern
#: Django's own ES-module patterns (``support_js_module_import_aggregation``),
#: exactly as the installed Django version defines them.
DJANGO_MODULE_PATTERNS: tuple[Any, ...] = HashedFilesMixin._js_module_import_aggregation_patterns[1]  # type: ignore[attr-defined]


def _path_specifiers_only(patterns: tuple[Any, ...]) -> tuple[Any, ...]:
    """Django's module patterns with ``import("x")`` limited to path specifiers.

    Django's dynamic-import pattern takes any specifier, so ``import("lodash")``
    (a bare module name, resolved by an import map) is a missing file for
    Django. Every other form is Django's, byte for byte.
    """
    out = []
    for pattern, template in patterns:
        if pattern.startswith(r"(?P<matched>import\(") and "(?P<url>.*?)" in pattern:
            pattern = pattern.replace("(?P<url>.*?)", "(?P<url>[./].*?)")
        out.append((pattern, template))
    return tuple(out)


#: What ``es_modules`` adds for ``*.js`` (and ``*.mjs``) when Django's flag is off.
ES_MODULE_PATTERNS: tuple[Any, ...] = _path_specifiers_only(DJANGO_MODULE_PATTERNS)

MISSING_REFERENCES_CHOICES = ("error", "warn")


class MissingReferencesError(ValueError):
    """References to missing files found by collectstatic (all of them, in the message)."""


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
            drop_other_encodings=True,  # STATIC_ROOT is ours: as a clean collectstatic
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


def _bundler_outputs() -> set[str]:
    """Hashed outputs listed by bundler manifests (.vite/manifest.json...) in finder locations."""
    from django.contrib.staticfiles.finders import get_finders

    names: set[str] = set()
    for finder in get_finders():
        for storage in (getattr(finder, "storages", None) or {}).values():
            location = getattr(storage, "location", None)
            if not location or not os.path.isdir(location):
                continue
            prefix = (getattr(storage, "prefix", None) or "").strip("/")
            for name in bundler_hashed_names(location):
                names.add(f"{prefix}/{name}" if prefix else name)
    return names


# (misc: django-stubs types HashedFilesMixin.url and Storage.url differently.)
class CompressedManifestStaticFilesStorage(_CompressMixin, ManifestStaticFilesStorage):  # type: ignore[misc]
    """ManifestStaticFilesStorage plus ES modules, missing-reference report, SRI, compression."""

    #: Rewrite ES-module import/export paths (subclass and set False to match Django).
    es_modules = True

    @property
    def cache_manifest(self) -> str | None:  # type: ignore[override]
        return self.manifest_name

    def __init__(
        self,
        *args: Any,
        manifest_strict: bool | None = None,
        keep_only_hashed_files: bool | None = None,
        missing_references: str | None = None,
        missing_source_maps: str | None = None,
        es_modules: bool | None = None,
        keep_releases: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.es_modules = _option(es_modules, "ES_MODULES")
        # Django appends its module patterns for *.js itself when its flag is
        # on (a user's setting or a subclass); ours are the same patterns, so
        # they are added only when it is off: applied once either way.
        django_flag = self.support_js_module_import_aggregation
        patterns = list(self.patterns)
        if self.es_modules and not django_flag:
            patterns.append(("*.js", ES_MODULE_PATTERNS))
        if self.es_modules or django_flag:
            mjs = DJANGO_MODULE_PATTERNS if django_flag else ES_MODULE_PATTERNS
            patterns.append(("*.mjs", (*_DJANGO_JS_PATTERNS, *mjs)))
        self.patterns = tuple(patterns)
        super().__init__(*args, **kwargs)
        if manifest_strict is not None or ss_settings.is_set("MANIFEST_STRICT"):
            self.manifest_strict = _option(manifest_strict, "MANIFEST_STRICT")
        self.keep_only_hashed_files = _option(keep_only_hashed_files, "KEEP_ONLY_HASHED_FILES")
        self.missing_references_mode = _choice(missing_references, "MISSING_REFERENCES")
        self.missing_source_maps_mode = _choice(missing_source_maps, "MISSING_SOURCE_MAPS")
        #: Releases whose hashed files stay in STATIC_ROOT (this one included).
        self.keep_releases = _option(keep_releases, "KEEP_RELEASES")
        if not isinstance(self.keep_releases, int) or self.keep_releases < 1:
            raise ImproperlyConfigured(
                f"STATICSERVE_KEEP_RELEASES = {self.keep_releases!r}: give a whole number of "
                "releases >= 1 (3 keeps this release and the two before)"
            )
        self._prune: list[str] = []
        #: References to missing files found by the last post_process.
        self.missing_references: list[MissingReference] = []

    # -- references to missing files -------------------------------------

    def url_converter(  # type: ignore[override]  # Django passes no ignored_blocks here
        self, name: str, hashed_files: dict[str, Any], template: str | None = None
    ) -> Callable[[re.Match[str]], str]:
        convert = super().url_converter(name, hashed_files, template)
        source_map = template is not None and "sourceMappingURL" in template

        def converter(matchobj):  # type: ignore[no-untyped-def]
            try:
                return convert(matchobj)
            except ValueError:
                # Django's hashed_name() of a file that is not there. Collected,
                # the reference left as written; post_process reports them all.
                url = matchobj.group("url")
                line, column = self._position_as_written(name, matchobj)
                self.missing_references.append(
                    MissingReference(name, line, column, url, _target(name, url), source_map)
                )
                return matchobj.group(0)  # as written (Django 4.2's source map "matched" is empty)

        return converter

    def _position_as_written(self, name: str, matchobj: Any) -> tuple[int, int]:
        """Line and column of the reference in the source file, not in Django's working copy.

        Django runs its patterns one after another over a copy that earlier
        patterns have already rewritten (``import './a.js';`` becomes
        ``import"./a.<hash>.js";``), which moves later columns. The match of a
        missing reference is left as written, so it is found again in the
        source: the same occurrence (k-th) of the same text.
        """
        text, pos = matchobj.string, matchobj.start("url")
        source = self._source_text(name)
        if source is not None and source != text:
            needle = matchobj.group(0)
            k = text.count(needle, 0, matchobj.start()) if needle else -1
            found = -len(needle)
            for _ in range(k + 1):
                found = source.find(needle, found + len(needle))
                if found < 0:
                    break
            if found >= 0:
                text, pos = source, found + (pos - matchobj.start())
        return line_and_column(text, pos)

    def _source_text(self, name: str) -> str | None:
        cache: dict[str, str | None] = self.__dict__.setdefault("_source_texts", {})
        if name not in cache:
            cache[name] = None
            found = (getattr(self, "_sources", None) or {}).get(name)
            if found is not None:
                storage, path = found
                with contextlib.suppress(OSError, UnicodeDecodeError), storage.open(path) as f:
                    cache[name] = f.read().decode("utf-8")
        return cache[name]

    def _is_fatal(self, m: MissingReference) -> bool:
        mode = self.missing_source_maps_mode if m.source_map else self.missing_references_mode
        return mode == "error"

    def _missing_report(self) -> tuple[str, bool]:
        """The report of this run's missing references, and whether it stops the run."""
        missing = sorted(set(self.missing_references))
        fatal = any(self._is_fatal(m) for m in missing)
        setting = (
            "MISSING_REFERENCES"
            if any(not m.source_map for m in missing)
            else "MISSING_SOURCE_MAPS"
        )
        fix = f'To deploy anyway, leaving them as written, set STATICSERVE_{setting} = "warn"'
        if fatal and self.missing_source_maps_mode == "error":
            missing = [m if not m.source_map else _as_error(m) for m in missing]
        return missing_references_report(missing, fatal=fatal, fix=fix), fatal

    # -- post-processing --------------------------------------------------

    # -- bundler output (Vite, webpack): hashed already ---------------------

    #: Names a bundler manifest in a finder location lists as hashed (set per run).
    _bundler_hashed: frozenset[str] = frozenset()

    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        """Django's hashed name, except for bundler output that carries a hash already.

        ``assets/index-BvmkIFtm.js`` keeps its name (no second hash), so
        ``{% static %}``, django-vite and the bundler's own chunk references all
        name the file the bundler wrote.
        """
        if self._hashed_already(name):
            return self.clean_name(name)
        return super().hashed_name(name, content, filename)

    def _hashed_already(self, name: str) -> bool:
        clean = self.clean_name(name)
        return clean in self._bundler_hashed or is_hashed_name(clean)

    def _post_process(self, paths: Any, adjustable_paths: Any, hashed_files: Any) -> Any:
        # Bundler output is not rewritten either: its references already name
        # hashed files, and Django's templates would respace its minified imports.
        adjustable = [p for p in adjustable_paths if not self._hashed_already(p)]
        # (_post_process: HashedFilesMixin's private generator, not in django-stubs.)
        for name, hashed, processed, substitutions in super()._post_process(  # type: ignore[misc]
            paths, adjustable, hashed_files
        ):
            # Left as is, so never a substitution that asks Django for another pass.
            yield name, hashed, processed, substitutions and not self._hashed_already(name)

    def post_process(  # type: ignore[override]  # Django's own signature, as it calls it
        self, paths: dict[str, Any], dry_run: bool = False, **options: Any
    ) -> Iterator[tuple[str, str | None, Any]]:
        self.missing_references = []
        if dry_run:
            return
        self._bundler_hashed = frozenset(_bundler_outputs())
        self.load_build_cache()  # while the previous manifest is still in place
        self._sources = paths  # for positions as written
        self._source_texts: dict[str, str | None] = {}
        self._deferred_deletes = set()
        try:
            failed = yield from self._django_post_process(paths, **options)
        finally:
            self._flush_deletes()
        if failed:
            return
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

    def _django_post_process(
        self, paths: dict[str, Any], **options: Any
    ) -> Generator[tuple[str, str | None, Any], None, bool]:
        """Django's post_process, stopped with the report of missing references; True if so."""
        patterns = self._patterns  # type: ignore[attr-defined]  # HashedFilesMixin's, private
        adjustable = {p for p in paths if matches_patterns(p, patterns)}
        reported = False
        for name, hashed_name, processed in super().post_process(paths, False, **options):
            # Django yields the adjustable files once all passes are done: every
            # reference has been seen, the manifest is not yet written.
            if not reported and name in adjustable and not isinstance(processed, Exception):
                reported = True
                if self.missing_references:
                    report, fatal = self._missing_report()
                    if fatal:
                        # As Django leaves it when post-processing fails.
                        self.hashed_files = {}
                        files = sorted(
                            {m.file for m in self.missing_references if self._is_fatal(m)}
                        )
                        yield ", ".join(files), None, MissingReferencesError(report)
                        return True
                    logger.warning("staticserve: %s", report)
            yield name, hashed_name, processed
        return False

    # Django's post_process deletes every processed file and writes it again,
    # even when nothing changed. While it runs, a delete is held back until
    # the same name is saved: identical bytes are then left alone (same
    # inode, same mtime, compressed siblings stay up to date), so a second
    # collectstatic without changes rewrites nothing.
    _deferred_deletes: set[str] | None = None

    def delete(self, name: str) -> None:
        if self._deferred_deletes is not None and self.exists(name):
            self._deferred_deletes.add(name)
            return
        super().delete(name)

    def _save(self, name: str, content: Any) -> str:
        pending = self._deferred_deletes
        if pending is not None and name in pending:
            pending.discard(name)
            if self._same_bytes(name, content):
                return name
            super().delete(name)
        saved: str = super()._save(name, content)  # type: ignore[misc]  # FileSystemStorage's
        return saved

    def _same_bytes(self, name: str, content: Any) -> bool:
        try:
            if self.size(name) != content.size:
                return False
            with self.open(name) as existing:
                old = existing.read()
        except (OSError, NotImplementedError, AttributeError):
            return False
        content.seek(0)
        new = content.read()
        content.seek(0)
        return bool(old == (new.encode() if isinstance(new, str) else new))

    def _flush_deletes(self) -> None:
        pending, self._deferred_deletes = self._deferred_deletes or set(), None
        for name in sorted(pending):
            super().delete(name)

    def save_manifest(self) -> None:
        """Django's manifest, serialised as Django does, plus a ``files`` entry per file.

        ``paths``, ``version`` and ``hash`` are Django's (``hash`` from
        ``file_hash``, as Django computes it); ``files`` (size, SRI integrity,
        Content-Type of every served file) comes last and Django ignores it.
        """
        self.manifest_hash = self.file_hash(  # type: ignore[assignment]
            None,  # type: ignore[arg-type]  # as Django's save_manifest calls it
            ContentFile(json.dumps(sorted(self.hashed_files.items())).encode()),
        )
        served = set(self.hashed_files.values())
        if not self.keep_only_hashed_files:
            served.update(self.hashed_files)
        files = {}
        for name in sorted(served):
            try:
                files[name] = file_entry(Path(self.path(name)), name)
            except (NotImplementedError, OSError):
                continue  # not a local file (or gone): no entry, Django needs none
        # The manifest still on disk is the previous release: read its history first.
        history = self._history()
        present = set(files) | {n for n in history.hashed if self.exists(n)}
        plan = plan_release(history, self.hashed_files, files, self.keep_releases, present)
        self._prune = plan.prune
        payload = {
            "paths": self.hashed_files,
            "version": self.manifest_version,
            "hash": self.manifest_hash,
            "files": {name: plan.files[name] for name in sorted(plan.files)},
            "releases": list(plan.releases),
        }
        # Django sets manifest_storage (default: self); _save is FileSystemStorage's.
        manifest_storage: Any = self.manifest_storage
        if manifest_storage.exists(self.manifest_name):
            manifest_storage.delete(self.manifest_name)
        contents = json.dumps(payload).encode()
        manifest_storage._save(self.manifest_name, ContentFile(contents))

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError as exc:
            if not str(exc).startswith("Missing staticfiles manifest entry"):
                raise
            where = self.manifest_name
            with contextlib.suppress(NotImplementedError):
                where = self.manifest_storage.path(self.manifest_name)  # type: ignore[union-attr]
            raise ValueError(
                f"{exc} in {where}. Run 'python manage.py collectstatic' after adding or "
                "renaming static files (or check the name)."
            ) from None

    def _history(self) -> History:
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

    def read_files_data(self) -> dict[str, dict[str, Any]]:
        """The manifest's ``files`` entries ({} for a manifest without them)."""
        content = self.read_manifest()
        if not content:
            return {}
        try:
            files = json.loads(content).get("files")
        except (ValueError, AttributeError):
            return {}
        return files if isinstance(files, dict) else {}


def _choice(value: str | None, name: str) -> str:
    value = _option(value, name)
    if value not in MISSING_REFERENCES_CHOICES:
        raise ImproperlyConfigured(
            f"STATICSERVE_{name} = {value!r}: use one of "
            + ", ".join(repr(c) for c in MISSING_REFERENCES_CHOICES)
        )
    return value


def _as_error(m: MissingReference) -> MissingReference:
    return MissingReference(m.file, m.line, m.column, m.reference, m.target, False)


def _target(name: str, url: str) -> str:
    """The file a reference resolves to, as Django's url_converter resolves it."""
    path = unquote(urldefrag(url)[0])
    static_url = settings.STATIC_URL or "/"
    if path.startswith(static_url) and path.startswith("/"):
        target = path[len(static_url) :]
    else:
        target = posixpath.join(posixpath.dirname(name.replace(os.sep, "/")), path)
    target = posixpath.normpath(target)
    return "" if target == ".." or target.startswith("../") else target
