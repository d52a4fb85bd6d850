"""``staticserve build`` and ``staticserve find``.

The main ``staticserve`` command registers these with
:func:`add_build_command` / :func:`add_find_command`; ``python -m
staticserve.pipeline.cli`` runs them standalone through :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, TextIO

from ._files import BuildError, BuildWarning
from .cache import BuildCache, settings_key, stat_of
from .collect import DEFAULT_IGNORE, Source, collect, collectable, find, parse_source
from .compress import SUFFIXES, CompressSummary, EncodingStats, available_encodings
from .manifest import MANIFEST_NAME, file_entry
from .releases import DEFAULT_KEEP, History
from .stamp import input_signature, make_stamp, read_stamp, up_to_date

# hashing (and its regexes), the bundler manifests and compress_tree's pool
# are imported by run_build only when there is work: a no-change rebuild
# never loads them.


def _ignore_patterns(args: argparse.Namespace) -> list[str]:
    base = [] if args.no_default_ignore else list(DEFAULT_IGNORE)
    return base + list(args.ignore or [])


def fraction(text: str) -> float:
    """An argparse ``type`` for ``--min-saving``: a fraction in [0, 1) or a percentage.

    ``0.05`` and ``5%`` both mean 0.05 (``build`` and ``compress`` share it).
    """
    try:
        value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a fraction in [0, 1), e.g. 0.05 or 5%"
        )
    return value


def whole_number(minimum: int, message: str) -> Callable[[str], int]:
    """An argparse ``type``: a whole number >= ``minimum``, else ``message``.

    ``message`` may name the given text as ``{text!r}``.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(message.format(text=text))
        return value

    return parse


_keep = whole_number(1, "expected a whole number of releases >= 1, e.g. 3")


def _static_url(text: str) -> str:
    """``--static-url``: a path (``/static/``) or an absolute http(s) URL (a CDN)."""
    is_path = text.startswith("/") and not text.startswith("//")
    is_url = text.startswith(("http://", "https://"))
    clean = ".." not in text.split("/") and not any(c.isspace() for c in text)
    if (is_path or is_url) and clean:
        return text
    raise argparse.ArgumentTypeError(
        f"bad static URL {text!r}: give the path ROOT is served under (e.g. /static/) "
        "or an http(s):// URL, without '..' or spaces"
    )


_positive = whole_number(1, "{text!r} is not a positive number of processes")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i",
        "--ignore",
        action="append",
        metavar="GLOB",
        help="ignore files and directories matching GLOB (a name, or a path with '/'); "
        "repeatable; added to the defaults CVS, .*, *~",
    )
    parser.add_argument(
        "--no-default-ignore",
        action="store_true",
        help="do not ignore CVS, .* and *~ by default",
    )


def add_build_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``build`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "build",
        help="collect, hash, rewrite and compress static files into one root",
        description="Collect SOURCE directories (first wins; PREFIX=DIR mounts a source under "
        "PREFIX) into --out, add content-hashed copies with rewritten references, write "
        ".br/.gz/.zst siblings and the staticfiles.json manifest.",
    )
    p.add_argument(
        "sources", nargs="+", metavar="SOURCE", help="DIR or PREFIX=DIR, in precedence order"
    )
    p.add_argument("-o", "--out", required=True, type=Path, metavar="ROOT", help="output root")
    _add_common(p)
    p.add_argument(
        "--clear", action="store_true", help="empty ROOT first (only ROOT's contents are removed)"
    )
    p.add_argument(
        "-n", "--dry-run", action="store_true", help="report what would change, write nothing"
    )
    p.add_argument("--link", action="store_true", help="symlink originals instead of copying them")
    p.add_argument("--no-hash", action="store_true", help="skip hashed names and the rewriting")
    p.add_argument("--keep-only-hashed", action="store_true", help="delete originals after hashing")
    p.add_argument(
        "--strict",
        action="store_true",
        help="a reference to a missing file is an error (a missing source map only warns)",
    )
    p.add_argument(
        "--static-url",
        type=_static_url,
        default="/static/",
        help="URL prefix ROOT is served under, to resolve root-relative references "
        "(default /static/)",
    )
    p.add_argument(
        "--keep",
        type=_keep,
        default=DEFAULT_KEEP,
        metavar="N",
        help="keep the hashed files of N releases in ROOT, this one included, and delete "
        f"older releases' hashed files (default {DEFAULT_KEEP}; unhashed files are never deleted)",
    )
    p.add_argument(
        "--no-cache",
        action="store_true",
        help="ignore the build cache in ROOT (rebuild and recompress everything); "
        "a fresh cache is still written",
    )
    p.add_argument("--no-compress", action="store_true", help="do not write compressed siblings")
    p.add_argument(
        "--encodings",
        default=None,
        help="comma-separated: br,gzip,zstd (default: every installed one)",
    )
    p.add_argument(
        "--min-saving",
        type=fraction,
        default=0.05,
        help="keep a compressed variant only if it saves this fraction (default 0.05)",
    )
    p.add_argument(
        "-j", "--workers", type=_positive, default=None, help="processes (default: CPUs)"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    p.set_defaults(func=run_build)
    return p


def add_find_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``find`` on an argparse subparsers object."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        "find",
        help="show which source a static path comes from",
        description="Like Django's findstatic: print the file each PATH would be collected from.",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="static path, e.g. css/site.css")
    p.add_argument(
        "-s",
        "--source",
        action="append",
        metavar="SOURCE",
        help="DIR or PREFIX=DIR, repeatable, in precedence order (default: the sources "
        "recorded in the built root's manifest)",
    )
    p.add_argument(
        "-r",
        "--root",
        type=Path,
        metavar="ROOT",
        help="a root built by `staticserve build`: also show the built file and its hashed "
        "name (default: the current directory, or its one subdirectory, holding "
        f"{MANIFEST_NAME})",
    )
    _add_common(p)
    p.add_argument("--all", action="store_true", help="print every candidate, not only the winner")
    p.add_argument(
        "-v",
        "--verbosity",
        type=int,
        choices=(0, 1, 2),
        default=1,
        help="0 prints bare paths, 1 (default) adds headings, 2 also lists searched locations",
    )
    p.set_defaults(func=run_find)
    return p


class _Progress:
    """Prints progress to stderr only when a run takes a while."""

    def __init__(self, out: TextIO, enabled: bool) -> None:
        self.out, self.enabled = out, enabled
        self.started = self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.started > 2 and (now - self.last > 1 or done == total):
            self.last = now
            print(f"  compressing: {done}/{total} jobs", file=self.out, flush=True)


def run_build(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Execute ``staticserve build``; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr

    def say(msg: str) -> None:
        if not args.quiet:
            print(msg, file=out)

    started = time.perf_counter()
    try:
        sources = [parse_source(s) for s in args.sources]
        root: Path = args.out
        ignore = _ignore_patterns(args)
        loaded = None
        files = inputs = None
        if not (args.dry_run or args.clear or args.no_cache):
            started_ns = time.time_ns()
            files = collectable(sources, root, ignore)
            inputs = input_signature(_stamp_settings(args, sources, ignore), files, started_ns)
            stamp = read_stamp(root)
            if stamp is not None and up_to_date(root, stamp, inputs):
                # Nothing changed since the build that wrote the stamp: the root is
                # what this build would write. Say what that build said.
                for line in stamp["warnings"]:
                    print(line, file=err)
                n = stamp["collected"]
                say(f"collect: {n} files, {'linked' if args.link else 'copied'} 0, {n} unchanged")
                say(
                    f"up to date: sources, settings and {root} are as the last build left "
                    "them (build cache); nothing read, hashed, compressed or written"
                )
                say(
                    f"manifest: {root / MANIFEST_NAME} ({stamp['served']} files) in "
                    f"{time.perf_counter() - started:.2f}s"
                )
                return 0
            # Loaded before collect (and with the previous manifest in place).
            loaded = BuildCache.load(root, _cache_key(args))
        from ..manifests import already_hashed
        from .compress import compress_tree
        from .hashing import REWRITTEN_EXTENSIONS, hash_and_rewrite, missing_references_report
        from .manifest import served_names, write_manifest
        from .releases import load_history, plan_release, prune

        result = collect(
            sources,
            root,
            ignore=ignore,
            clear=args.clear,
            dry_run=args.dry_run,
            link=args.link,
            files=files,
        )
        verb = "would copy" if args.dry_run else ("linked" if args.link else "copied")
        say(
            f"collect: {len(result.files)} files, {verb} {len(result.copied)}, "
            f"{len(result.unchanged)} unchanged"
            + (f", cleared {len(result.removed)} entries" if args.clear else "")
        )
        if args.dry_run:
            for name in result.copied:
                say(f"  {name}")
            return 0
        # Read before anything changes the root: the manifest is the history.
        history, warnings = load_history(root)
        if loaded is not None and loaded.warning is not None:
            warnings.append(loaded.warning)
        for warning in warnings:
            print(f"warning: {warning}", file=err)
        if loaded is not None and loaded.note is not None:
            say(loaded.note)
        cache = loaded.cache if loaded is not None else BuildCache(_cache_key(args))
        cache.use_manifest(history.files)
        cache.rewritten(result.copied)
        # Warnings about the sources: every build repeats them, the up-to-date one too.
        repeat: list[str] = []
        paths: dict[str, str] = {}
        reused: dict[str, dict[str, Any]] = {}
        fresh: dict[str, dict[str, Any]] = {}
        encodings = args.encodings.split(",") if args.encodings else None

        def compress(names: list[str]) -> CompressSummary:
            return compress_tree(
                root,
                names,
                encodings=encodings,
                min_saving=args.min_saving,
                workers=args.workers,
                progress=_Progress(err, not args.quiet),
                cache=cache,
                rewritten=result.copied,
                drop_other_encodings=True,  # the root is the build's: as a clean build
            )

        early: Future[CompressSummary] | None = None
        if not args.no_hash:
            names = list(result.files)
            reuse = cache.reusable(root, names, REWRITTEN_EXTENSIONS)
            if not (args.no_compress or args.keep_only_hashed or args.strict):
                # The collected files are served as they are: compress them while
                # the main thread hashes (hashing only reads them). The hashed
                # copies follow below; the unchanged ones get these siblings.
                # (Not with --strict, whose failure writes nothing but copies.)
                pool = ThreadPoolExecutor(max_workers=1)
                early = pool.submit(compress, names)
                pool.shutdown(wait=False)
            # Bundler output (Vite, webpack, ...) is hashed already, and HTML
            # entry points keep their names: neither is renamed or rewritten.
            keep = already_hashed([(s.prefix, s.path) for s in sources], names)
            entry_points = {n for n in names if n.lower().endswith((".html", ".htm"))}
            try:
                hashed = hash_and_rewrite(
                    root,
                    names,
                    static_url=args.static_url,
                    strict=args.strict,
                    keep_only_hashed=args.keep_only_hashed,
                    unchanged=reuse.paths,
                    already_hashed=keep | entry_points,
                )
            except Exception:
                if early is not None:
                    wait([early])  # its siblings are whole files; let it finish first
                raise
            # Files with missing references are never reused: each build reports them again.
            broken = {m.file for m in hashed.missing}
            cache.record_originals(
                reuse,
                {n: h for n, h in hashed.paths.items() if n not in broken},
                hashed.references,
                hashed.warnings,
            )
            for warning in _in_name_order(names, reuse.warnings, hashed.warnings):
                repeat.append(f"warning: {warning}")
            if hashed.missing:
                report = missing_references_report(hashed.missing, fatal=False)
                repeat.append(f"warning: {report}")
            for line in repeat:
                print(line, file=err)
            # An entry point is not a hashed name: leave it out of `paths`,
            # whose values are served immutable.
            paths = {k: v for k, v in hashed.paths.items() if k not in entry_points}
            reused, fresh = reuse.entries, hashed.entries
            unchanged = sum(name in paths for name in reuse.paths)  # not entry points
            say(
                f"hash: {len(paths)} files, {len(hashed.written)} hashed files written, "
                f"{unchanged} unchanged (build cache)"
            )
        first = early.result() if early is not None else None  # before the walk below
        with_siblings: dict[str, set[str]] = {}
        served = served_names(root, with_siblings)
        entries = _entries(root, served, reused, fresh, history, cache)
        plan = plan_release(history, paths, entries, keep=args.keep, present=served)
        # Files of releases about to be pruned are not worth compressing.
        served = [n for n in served if n in plan.files]
        encodings_used: list[str] = []
        if not args.no_compress:
            if first is None:
                summary = compress(served)
            else:
                done = set(result.files)
                summary = _merged(first, compress([n for n in served if n not in done]))
            for warning in summary.warnings:
                repeat.append(f"warning: {warning}")
                print(f"warning: {warning}", file=err)
            encodings_used = list(summary.encodings)
            say(summary.table())
        # The switch: until this rename the previous manifest (and every file
        # it names) is what a starting server sees.
        write_manifest(
            root,
            paths,
            plan.files,
            extra={"sources": _record(sources, root)},
            releases=plan.releases,
            siblings=_known_siblings(plan.files, with_siblings, cache, encodings_used),
        )
        removed = prune(root, plan.prune)
        stamp = None
        if inputs is not None:
            stamp = make_stamp(root, inputs, args.link, len(served), len(result.files), repeat)
        cache.save(root, plan.files, stamp=stamp)  # last: it describes the root as it is now
        say(
            f"releases: {plan.release} (this build) + {len(plan.releases) - 1} earlier kept"
            f" (--keep {args.keep}), {len(removed)} hashed files of older releases pruned"
        )
        say(
            f"manifest: {root / MANIFEST_NAME} ({len(served)} files) in "
            f"{time.perf_counter() - started:.2f}s"
        )
    except BuildError as exc:
        print(f"staticserve build: error: {exc}", file=err)
        return 1
    return 0


def _merged(first: CompressSummary, second: CompressSummary) -> CompressSummary:
    """One summary for two compress_tree runs over disjoint names (warnings said once)."""
    merged = CompressSummary(
        files=first.files + second.files,
        skipped_incompressible=first.skipped_incompressible + second.skipped_incompressible,
        seconds=first.seconds + second.seconds,
        warnings=first.warnings + [w for w in second.warnings if w not in first.warnings],
    )
    for enc in dict.fromkeys([*first.encodings, *second.encodings]):
        a = first.encodings.get(enc, EncodingStats())
        b = second.encodings.get(enc, EncodingStats())
        merged.encodings[enc] = EncodingStats(
            written=a.written + b.written,
            up_to_date=a.up_to_date + b.up_to_date,
            not_worth_it=a.not_worth_it + b.not_worth_it,
            bytes_before=a.bytes_before + b.bytes_before,
            bytes_after=a.bytes_after + b.bytes_after,
        )
    return merged


def _record(sources: list[Source], root: Path) -> list[dict[str, str]]:
    """The sources as the manifest keeps them: paths relative to the root, so a moved
    app directory (or a Docker image built elsewhere) still resolves them."""
    return [
        {"path": os.path.relpath(s.path.resolve(), root.resolve()).replace(os.sep, "/")}
        | ({"prefix": s.prefix} if s.prefix else {})
        for s in sources
    ]


def _built_root(given: Path | None) -> Path | None:
    """The built root to read: ``--root``, else ``.`` or its one subdirectory with a manifest."""
    if given is not None:
        if not (given / MANIFEST_NAME).is_file():
            raise BuildError(
                f"--root {given}: no {MANIFEST_NAME} there; run `staticserve build ... "
                f"--out {given}` first, or pass the sources with -s"
            )
        return given
    if Path(MANIFEST_NAME).is_file():
        return Path(".")
    found = sorted(
        entry.name
        for entry in os.scandir(".")
        if entry.is_dir()
        and not entry.name.startswith(".")
        and (Path(entry.name) / MANIFEST_NAME).is_file()
    )
    if len(found) > 1:
        raise BuildError(
            f"several built roots here ({', '.join(found)}); say which with --root, "
            "or pass the sources with -s"
        )
    return Path(found[0]) if found else None


def _recorded_sources(root: Path) -> tuple[list[Source], dict[str, str]]:
    """Sources recorded by the build that wrote ``root``, and its hashed names."""
    try:
        data = json.loads((root / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError) as exc:
        raise BuildError(f"cannot read {root / MANIFEST_NAME}: {exc}") from None
    if not isinstance(data, dict):
        raise BuildError(f"{root / MANIFEST_NAME} is not a manifest")
    sources = [
        Source(root / str(entry["path"]), str(entry.get("prefix", "")))
        for entry in data.get("sources") or []
        if isinstance(entry, dict) and "path" in entry
    ]
    paths = data.get("paths")
    return sources, paths if isinstance(paths, dict) else {}


def _entries(
    root: Path,
    served: list[str],
    reused: dict[str, dict[str, Any]],
    fresh: dict[str, dict[str, Any]],
    history: History,
    cache: BuildCache,
) -> dict[str, dict[str, Any]]:
    """The ``files`` entry of every served name, reading only files not described yet.

    ``reused`` entries (and the cache's) describe files as the cache recorded
    them; every other entry is recorded with the file's stat now.
    """
    entries = {}
    for name in served:
        entry = reused.get(name)
        if entry is None and name not in fresh:
            entry = cache.entry(root, name)
        if entry is not None:
            entries[name] = entry
            continue
        entry = fresh.get(name)
        if entry is None:
            path = root.joinpath(*name.split("/"))
            old = history.entries.get(name)
            # A kept hashed file is content-addressed: same name and size, same facts.
            if old is not None and _size(path) == old.get("size"):
                entry = {k: v for k, v in old.items() if k not in ("release", "encodings")}
            else:
                entry = file_entry(path, name)
        # Facts computed now: the cache remembers the stat they describe.
        stat = stat_of(root.joinpath(*name.split("/")))
        if stat is not None:
            cache.mark(name, stat)
        entries[name] = entry
    return entries


def _known_siblings(
    names: Iterable[str],
    with_siblings: dict[str, set[str]],
    cache: BuildCache,
    encodings: list[str],
) -> dict[str, dict[str, int]]:
    """Sibling sizes known without a stat: verified by the cache, or none on disk.

    The walk before compression saw which siblings each name had; compression
    then touched only the ``encodings`` siblings of the names it verified.
    """
    compressed = {SUFFIXES[e] for e in encodings}
    known = {}
    for name in names:
        present = with_siblings.get(name)
        if present is not None and not present <= compressed:
            continue  # a sibling compression did not look at: stat it
        verified = cache.sibling_sizes(name)
        if verified is not None:
            known[name] = verified
        elif present is None:
            known[name] = {}  # none then, and compression wrote none since
    return known


def _in_name_order(
    names: list[str], cached: dict[str, list[BuildWarning]], fresh: list[BuildWarning]
) -> list[BuildWarning]:
    """Warnings as a build without the cache reports them: by file, in name order."""
    by_file: dict[str, list[BuildWarning]] = {}
    for warning in fresh:
        by_file.setdefault(warning.file, []).append(warning)
    ordered: list[BuildWarning] = []
    for name in names:
        ordered.extend(cached.get(name, ()))
        ordered.extend(by_file.pop(name, ()))
    for rest in by_file.values():
        ordered.extend(rest)
    return ordered


def _cache_key(args: argparse.Namespace) -> str:
    """What, besides the sources, decides this build's output."""
    return settings_key(
        kind="build",
        static_url=args.static_url,
        strict=args.strict,
        hash=not args.no_hash,
        keep_only_hashed=args.keep_only_hashed,
        link=args.link,
        compress=not args.no_compress,
        encodings=args.encodings or ",".join(available_encodings()),
        min_saving=args.min_saving,
    )


def _stamp_settings(
    args: argparse.Namespace, sources: list[Source], ignore: list[str]
) -> dict[str, object]:
    """Everything besides the sources' files that decides what the root ends up as."""
    return {
        "key": _cache_key(args),
        "out": str(Path(args.out).resolve()),
        "sources": [[s.prefix, str(s.path.resolve())] for s in sources],
        "ignore": ignore,
        "keep": args.keep,
    }


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def run_find(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Execute ``staticserve find``; returns 1 when a path is not found."""
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        root = _built_root(args.root) if args.root or not args.source else None
        hashed_names: dict[str, str] = {}
        sources: list[Source] = []
        if args.source:
            sources = [parse_source(s) for s in args.source]
        if root is not None:
            recorded, hashed_names = _recorded_sources(root)
            sources = sources or recorded
        elif not sources:
            raise BuildError(
                "no --source given and no built root here (a directory holding "
                f"{MANIFEST_NAME} from `staticserve build`); pass -s DIR (repeatable) "
                "or --root ROOT"
            )
        ignore = _ignore_patterns(args)
        status = 0
        for path in args.paths:
            hits = find(path, sources, ignore, find_all=args.all) if sources else []
            name = path.replace("\\", "/").lstrip("/")
            built = root / name if root is not None else None
            if built is not None and not (built.is_file() and ".." not in name.split("/")):
                built = None
            if hits or built is not None:
                if args.verbosity >= 1 and hits:
                    print(f"Found {path!r} here:", file=out)
                for hit in hits:
                    print(f"  {hit.resolve()}" if args.verbosity >= 1 else hit.resolve(), file=out)
                if built is not None:
                    hashed = hashed_names.get(name)
                    line = str(built.resolve())
                    if args.verbosity >= 1:
                        line = f"Built as {line}" + (f" (hashed: {hashed})" if hashed else "")
                    print(line, file=out)
                if not hits and sources and root is not None:
                    # Built before its source was deleted: the build is stale, not a find.
                    status = 1
                    print(
                        f"No matching file found for {path!r}. The build in {root.resolve()} "
                        "still has it, but no source does any more: rebuild to drop it.",
                        file=err,
                    )
            else:
                status = 1
                print(f"No matching file found for {path!r}.", file=err)
            if args.verbosity >= 2:
                print("Looking in the following locations:", file=out)
                for source in sources:
                    print(
                        f"  {source.path.resolve()}"
                        + (f" (as {source.prefix}/)" if source.prefix else ""),
                        file=out,
                    )
        return status
    except BuildError as exc:
        print(f"staticserve find: error: {exc}", file=err)
        return 1


def main(argv: list[str] | None = None) -> int:
    """Standalone entry point: ``python -m staticserve.pipeline.cli build|find ...``."""
    parser = argparse.ArgumentParser(prog="staticserve")
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_command(sub)
    add_find_command(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
