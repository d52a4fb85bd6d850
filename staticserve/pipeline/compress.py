"""Precompressed siblings: ``x.css.br``, ``x.css.gz``, ``x.css.zst``.

* ``br``: Brotli quality 11 (needs the ``brotli`` extra; skipped with a
  warning when it is missing).
* ``gz``: gzip level 9 from the standard library, mtime 0 and no file name
  in the header, so the bytes depend only on the content.
* ``zst``: Zstandard level 19 when ``zstandard`` is importable.

Formats that are already compressed are skipped
(:func:`staticserve.media_types.is_compressible`); a variant is kept only if
it saves at least ``min_saving`` (5%) of the size, and a stale sibling from
an earlier build is removed when its variant is no longer worth keeping.
Files with identical content are compressed once. Work is spread over a
process pool (Brotli 11 is the cost), biggest jobs first so that one large
bundle does not finish alone at the end. A sibling whose mtime equals its
file's mtime is up to date and is not recompressed.

With a build cache (``cache=``, :mod:`staticserve.pipeline.cache`), a file
whose stat and siblings' stats are as recorded is not even read, a "not
worth it" decision is remembered per content (no retry of incompressible
files on every build), and a file whose content is already compressed under
another name (or under its own name before a touch) gets a copy of those
siblings instead of a new compression.

Public API::

    available_encodings() -> tuple[str, ...]
    compress_bytes(data: bytes, encoding: str) -> bytes
    compress_tree(root, names=None, encodings=None, min_saving=0.05,
                  workers=None, progress=None, cache=None) -> CompressSummary
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..media_types import is_compressible
from ._files import BuildError, BuildWarning, atomic_write, read_bytes

if TYPE_CHECKING:
    from .cache import BuildCache

try:
    import brotli
except ImportError:  # pragma: no cover - exercised only without the extra
    brotli = None

try:
    import zstandard
except ImportError:  # pragma: no cover - exercised only without the extra
    zstandard = None  # type: ignore[assignment]

#: Encoding name -> sibling suffix, in preference order.
SUFFIXES: dict[str, str] = {"br": ".br", "gzip": ".gz", "zstd": ".zst"}
ALIASES = {"br": "br", "brotli": "br", "gz": "gzip", "gzip": "gzip", "zst": "zstd", "zstd": "zstd"}

# Relative CPU cost per input byte, used only to start the slowest jobs first.
_COST = {"br": 10, "zstd": 3, "gzip": 1}
# Below this much work (cost-weighted bytes, about 0.1 s of Brotli 11) no pool.
_INLINE_COST = 64_000 * _COST["br"]


def available_encodings() -> tuple[str, ...]:
    """The encodings this interpreter can produce (gzip always)."""
    found = []
    if brotli is not None:
        found.append("br")
    found.append("gzip")
    if zstandard is not None:
        found.append("zstd")
    return tuple(found)


def compress_bytes(data: bytes, encoding: str) -> bytes:
    """Compress ``data`` deterministically with ``encoding`` (br, gzip or zstd)."""
    if encoding == "br":
        compressed: bytes = brotli.compress(data, quality=11)
        return compressed
    if encoding == "gzip":
        # gzip.compress writes no file name, OS byte 255 and the given mtime.
        return gzip.compress(data, compresslevel=9, mtime=0)
    if encoding == "zstd":
        return zstandard.ZstdCompressor(level=19).compress(data)
    raise ValueError(f"unknown encoding {encoding!r}")


@dataclass
class EncodingStats:
    """Per-encoding totals: bytes of files that got a variant, before and after."""

    written: int = 0
    up_to_date: int = 0
    not_worth_it: int = 0
    bytes_before: int = 0
    bytes_after: int = 0


@dataclass
class CompressSummary:
    """What :func:`compress_tree` did."""

    files: int = 0  # compressible files considered
    skipped_incompressible: int = 0
    seconds: float = 0.0
    encodings: dict[str, EncodingStats] = field(default_factory=dict)
    warnings: list[BuildWarning] = field(default_factory=list)

    def table(self) -> str:
        """A Markdown table of the summary, for the CLI and logs."""
        rows = [
            "| encoding | written | up to date | not worth it "
            "| bytes before | bytes after | saved |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for enc, s in self.encodings.items():
            saved = 1 - s.bytes_after / s.bytes_before if s.bytes_before else 0.0
            rows.append(
                f"| {enc} | {s.written} | {s.up_to_date} | {s.not_worth_it} | "
                f"{s.bytes_before:,} | {s.bytes_after:,} | {saved:.1%} |"
            )
        rows.append(
            f"\n{self.files} compressible files, {self.skipped_incompressible} skipped "
            f"(already compressed formats), {self.seconds:.2f}s"
        )
        return "\n".join(rows)


def _siblings_of(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _job(paths: Sequence[str], encoding: str, min_saving: float) -> tuple[str, int, int, bool]:
    """Compress the first file, write the sibling of every path (same content).

    Returns (encoding, size, compressed size, kept). Runs in a worker process.
    """
    first = Path(paths[0])
    data = read_bytes(first)
    out = compress_bytes(data, encoding)
    kept = _worth_keeping(len(data), len(out), min_saving)
    suffix = SUFFIXES[encoding]
    for p in paths:
        path = Path(p)
        sibling = _siblings_of(path, suffix)
        if kept:
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError as exc:
                raise BuildError(f"{path}: file vanished during the build") from exc
            # The sibling carries its file's mtime: equal mtimes = up to date.
            atomic_write(sibling, out, mtime_ns=mtime)
        elif os.path.lexists(sibling):
            os.unlink(sibling)  # stale variant from an earlier build
    return encoding, len(data), len(out), kept


def _worth_keeping(size: int, compressed: int, min_saving: float) -> bool:
    return size > 0 and compressed <= size * (1 - min_saving)


def _normalize(encodings: Iterable[str] | None, summary: CompressSummary) -> list[str]:
    if encodings is None:
        return list(available_encodings())
    result = []
    for enc in encodings:
        canonical = ALIASES.get(enc.lower())
        if canonical is None:
            raise BuildError(f"unknown encoding {enc!r}: use br, gzip or zstd")
        if canonical not in available_encodings():
            extra = "brotli" if canonical == "br" else "zstd"
            summary.warnings.append(
                BuildWarning(
                    "compress",
                    None,
                    f"{canonical} requested but not installed "
                    f"(pip install 'staticserve-http[{extra}]'); skipped",
                )
            )
            continue
        if canonical not in result:
            result.append(canonical)
    return result


def _walk_names(root: Path) -> list[str]:
    from .manifest import served_names

    return served_names(root)


def compress_tree(
    root: str | os.PathLike[str],
    names: Iterable[str] | None = None,
    encodings: Iterable[str] | None = None,
    min_saving: float = 0.05,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache: BuildCache | None = None,
    rewritten: Iterable[str] = (),
    drop_other_encodings: bool = False,
) -> CompressSummary:
    """Write compressed siblings for ``names`` (default: every served file under ``root``).

    ``encodings`` defaults to every available one; ``workers`` defaults to the
    CPU count (1 runs in-process, as does a total of less than about 64 KB);
    ``progress(done, total)`` is called as jobs finish; ``cache`` (a
    :class:`~staticserve.pipeline.cache.BuildCache`) skips work whose result
    is known and records what was done; ``rewritten`` names files written
    again since their siblings were (those siblings are not trusted by
    mtime: a copy keeps its source's mtime); ``drop_other_encodings`` removes
    the siblings of encodings not in ``encodings`` (a build's own root, which
    must end up as a clean build's; a bundler's output may hold siblings of its
    own). Returns a :class:`CompressSummary`.
    """
    started = time.perf_counter()
    root = Path(root)
    summary = CompressSummary()
    encs = _normalize(encodings, summary)
    summary.encodings = {e: EncodingStats() for e in encs}
    if names is None:
        names = _walk_names(root)

    # Group by content so identical files (an original and its hashed copy)
    # are compressed once.
    groups: dict[tuple[int, bytes], list[Path]] = {}
    done: set[tuple[Path, str]] = set()  # (file, encoding) settled from the cache
    recorded: list[tuple[Path, str, str]] = []  # (file, name, digest) to record after
    fresh = 0
    dropped = [SUFFIXES[e] for e in SUFFIXES if e not in encs] if drop_other_encodings else []
    base = os.fspath(root)  # plain strings: a Path per name costs a rebuild 0.2 s at 10k files
    for name in sorted(set(names)):
        if not is_compressible(name):
            summary.skipped_incompressible += 1
            continue
        summary.files += 1
        for suffix in dropped:
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):
                os.unlink(os.path.join(base, name + suffix))  # an earlier build's encoding
        if cache is not None and cache.siblings_fresh(name, encs):
            fresh += 1
            continue
        path = root.joinpath(*name.split("/"))
        data = read_bytes(path)
        key = (len(data), hashlib.blake2b(data, digest_size=16).digest())
        groups.setdefault(key, []).append(path)
        if cache is not None:
            digest = f"{key[0]}-{key[1].hex()}"
            recorded.append((path, name, digest))
            for enc in encs:
                if _from_cache(cache, root, path, name, digest, enc, summary):
                    done.add((path, enc))

    for enc in encs:
        summary.encodings[enc].up_to_date += fresh
    jobs: list[tuple[int, list[str], str]] = []
    untrusted = {root.joinpath(*n.split("/")) for n in rewritten}
    for (size, _), paths in groups.items():
        for enc in encs:
            stale = []
            for path in paths:
                if (path, enc) in done:
                    continue
                sibling = _siblings_of(path, SUFFIXES[enc])
                try:
                    compressed = sibling.stat()
                    fresh = path not in untrusted and (
                        compressed.st_mtime_ns == path.stat().st_mtime_ns
                    )
                except OSError:
                    fresh = False
                if not fresh:
                    stale.append(str(path))
                elif _worth_keeping(size, compressed.st_size, min_saving):
                    summary.encodings[enc].up_to_date += 1
                else:
                    # Compression is deterministic: this build would write the
                    # same bytes, and not keep them under its min_saving.
                    os.unlink(sibling)
                    summary.encodings[enc].not_worth_it += 1
            if stale:
                jobs.append((size * _COST[enc], stale, enc))
    jobs.sort(key=lambda j: (-j[0], j[1][0], j[2]))

    def record(res: tuple[str, int, int, bool], count: int) -> None:
        enc, size, out_size, kept = res
        stats = summary.encodings[enc]
        if kept:
            stats.written += count
            stats.bytes_before += size * count
            stats.bytes_after += out_size * count
        else:
            stats.not_worth_it += count

    workers = workers or os.cpu_count() or 1
    total = len(jobs)
    # A few small files (an incremental rebuild) compress faster here than
    # the pool starts (forking workers, importing multiprocessing).
    small = sum(cost for cost, _, _ in jobs) < _INLINE_COST
    if workers == 1 or total <= 1 or small:
        for finished_jobs, (_, job_paths, enc) in enumerate(jobs, 1):
            record(_job(job_paths, enc, min_saving), len(job_paths))
            if progress:
                progress(finished_jobs, total)
    else:
        # Imported here: multiprocessing is most of this module's import time,
        # and a build with nothing to compress never needs it.
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=min(workers, total)) as pool:
            pending = {
                pool.submit(_job, job_paths, enc, min_saving): len(job_paths)
                for _, job_paths, enc in jobs
            }
            try:
                # as_completed waits on all futures at once; a wait(FIRST_COMPLETED)
                # loop re-arms a waiter on every pending future per wake-up, which
                # is quadratic and kept a third process busy beside the workers.
                for finished_jobs, fut in enumerate(as_completed(pending), 1):
                    record(fut.result(), pending[fut])
                    if progress:
                        progress(finished_jobs, total)
            except BaseException:
                # Fail fast: do not compress the rest of the tree after an error.
                pool.shutdown(cancel_futures=True)
                raise
    if cache is not None:
        for path, name, digest in recorded:
            cache.record_siblings(path, name, digest, encs)
    summary.seconds = time.perf_counter() - started
    return summary


def _from_cache(
    cache: BuildCache,
    root: Path,
    path: Path,
    name: str,
    digest: str,
    enc: str,
    summary: CompressSummary,
) -> bool:
    """Settle ``path``'s ``enc`` sibling from a known compression of the same content."""
    donor = cache.donor(root, digest, enc, prefer=name)
    if donor is None:
        return False
    sibling = _siblings_of(path, SUFFIXES[enc])
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise BuildError(f"{path}: file vanished during the build") from exc
    if isinstance(donor, int):  # 0: a compression of this content was not worth it
        if os.path.lexists(sibling):
            os.unlink(sibling)  # stale variant from an earlier build
        summary.encodings[enc].not_worth_it += 1
        return True
    if donor == sibling:
        # Same bytes under the same name (a touched file): only the mtime moves.
        os.utime(sibling, ns=(mtime, mtime))
    else:
        atomic_write(sibling, read_bytes(donor), mtime_ns=mtime)
    summary.encodings[enc].up_to_date += 1
    return True
