"""Content-hashed names and reference rewriting.

Names follow Django's ``ManifestStaticFilesStorage`` exactly:
``css/base.css`` -> ``css/base.<first 12 hex of md5(final content)>.css``.

References rewritten (in the hashed copy only; the original stays verbatim):

* CSS: ``url(x)``, ``url('x')``, ``url("x")``, ``@import "x"``/``'x'`` and
  ``/*# sourceMappingURL=x */``. Comments and other strings are skipped.
* JS (``.js``, ``.mjs``): ``//# sourceMappingURL=x``, static
  ``import ... from "x"``, ``import "x"``, ``export ... from "x"`` and dynamic
  ``import("x")`` with a literal, for relative (``./``, ``../``) and
  root-relative specifiers; bare specifiers (``lodash``) are module names.
* Source maps (``.map``): ``sources`` entries and ``file``.

Only the last path segment of a reference changes; the directory part,
quoting, query string and fragment are kept as written. ``data:``, absolute
and protocol-relative URLs, and root-relative URLs outside ``static_url``
are left alone. References to files not in the tree are left alone and all
collected into one report (:func:`missing_references_report`) naming file,
line, column and the reference as written; with ``strict=True`` the report is
a :class:`BuildError` raised after the whole tree was scanned and before any
hashed file is written (a failed strict run leaves the root as it was). A missing
source map (``sourceMappingURL``, a map's ``sources``) is never fatal: vendored
libraries routinely ship without their maps, and browsers only lose debugging.

Files are hashed in dependency order (a file's name depends on the hashed
names it contains); a reference cycle is a :class:`BuildError` that lists it.

Public API::

    file_hash(content: bytes) -> str
    hashed_name(name: str, content: bytes) -> str
    find_references(name: str, text: str) -> list[Reference]
    hash_and_rewrite(root, names, *, static_url="/static/", strict=False,
                     keep_only_hashed=False, dry_run=False, unchanged=None) -> HashResult
    MissingReference, missing_references_report(missing, fatal, fix) -> str
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import heapq
import json
import os
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from ..media_types import media_type_for
from ._files import BuildError, BuildWarning, atomic_write, read_bytes, tmp_path_for

_IO_THREADS = 8


def entry_for(name: str, data: bytes) -> dict[str, Any]:
    """The manifest ``files`` entry for ``name`` holding ``data``."""
    return {"size": len(data), "integrity": integrity(data), "content_type": media_type_for(name)}


def integrity(data: bytes) -> str:
    """Subresource Integrity value (``sha384-<base64>``) for ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


#: Extensions whose content is scanned for references.
REWRITTEN_EXTENSIONS = frozenset({".css", ".js", ".mjs", ".map"})


def file_hash(content: bytes) -> str:
    """First 12 hex digits of the MD5 of ``content`` (Django's ``file_hash``)."""
    return hashlib.md5(content, usedforsecurity=False).hexdigest()[:12]


def insert_hash(name: str, digest: str) -> str:
    """``dir/base.ext`` -> ``dir/base.<digest>.ext``, splitting as ``os.path.splitext``."""
    head, _, tail = name.rpartition("/")
    root, ext = posixpath.splitext(tail)
    hashed = f"{root}.{digest}{ext}"
    return f"{head}/{hashed}" if head else hashed


def hashed_name(name: str, content: bytes) -> str:
    """The content-hashed name Django would give ``name`` holding ``content``."""
    return insert_hash(name, file_hash(content))


# --- finding references ---------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A reference inside a file: ``url`` occupies ``text[start:end]``."""

    url: str
    start: int
    end: int
    #: "url"; "source-map" for a sourceMappingURL comment; "map-file" for a
    #: source map's weak back-reference (its ``file``).
    kind: str = "url"


@dataclass(frozen=True, order=True)
class MissingReference:
    """A reference to a file that is not there, as found in ``file``."""

    file: str
    line: int
    column: int
    reference: str  # as written in the file
    target: str  # the name it resolves to; "" when it leaves the root
    source_map: bool = False  # sourceMappingURL / a map's sources: never fatal

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        text = f"{where}: reference to missing file {self.reference!r}"
        if not self.target:
            return text + " (outside the static root)"
        if self.target != self.reference:
            return f"{text} ({self.target})"
        return text


def line_and_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``text[pos]``."""
    line_start = text.rfind("\n", 0, pos) + 1
    return text.count("\n", 0, pos) + 1, pos - line_start + 1


def missing_references_report(
    missing: Iterable[MissingReference], *, fatal: bool, fix: str = ""
) -> str:
    """Every missing reference of a run in one report, sorted by file and position.

    ``fatal`` says whether the run stops; ``fix`` is the one line telling the
    user how to let the run through (a setting, a command-line flag).
    """
    missing = sorted(set(missing))
    errors = [m for m in missing if not m.source_map] if fatal else missing
    maps = [m for m in missing if m.source_map] if fatal else []
    lines = []
    if errors:
        n = len(errors)
        state = "" if fatal else " (left as written)"
        lines.append(f"{n} reference{'s' if n != 1 else ''} to missing files{state}:")
        lines.extend(f"  {m}" for m in errors)
    if maps:
        n = len(maps)
        lines.append(
            f"{n} source map reference{'s' if n != 1 else ''} to missing files"
            " (left as written; not fatal, only debugging is lost):"
        )
        lines.extend(f"  {m}" for m in maps)
    if fix and fatal and any(not m.source_map for m in missing):
        lines.append(fix)
    return "\n".join(lines)


_CSS_RE = re.compile(
    r"""
      (?P<smap>/\*[#@][ \t]+sourceMappingURL=(?P<smap_url>[^\s*]+)[ \t]*\*/)
    | (?P<comment>/\*.*?\*/)
    | (?P<open_comment>/\*)
    | url\(\s*(?:"(?P<u_dq>[^"\n]*)"|'(?P<u_sq>[^'\n]*)'|(?P<u_bare>[^\s'"()]*))\s*\)
    | @import\s*(?:"(?P<i_dq>[^"\n]*)"|'(?P<i_sq>[^'\n]*)')
    | "(?:[^"\\\n]|\\.)*"
    | '(?:[^'\\\n]|\\.)*'
    | (?P<bad_quote>["'])
    """,
    re.VERBOSE | re.IGNORECASE | re.DOTALL,
)

_JS_RE = re.compile(
    r"""
      ^[ \t]*//[#@][ \t]+sourceMappingURL=(?P<smap_url>\S+)
    | \b(?:import|export)\b[^;'"`()]*?\bfrom\s*(?P<q1>["'])(?P<from_url>[^"'\n]*)(?P=q1)
    | \bimport\s*(?P<q2>["'])(?P<side_url>[^"'\n]*)(?P=q2)
    | \bimport\s*\(\s*(?P<q3>["'`])(?P<dyn_url>[^"'`$\n]*)(?P=q3)\s*\)
    """,
    re.VERBOSE | re.MULTILINE,
)


class _Problems:
    """Collects syntax warnings found while scanning one file."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []


def _css_references(text: str, problems: _Problems) -> list[Reference]:
    refs = []
    for m in _CSS_RE.finditer(text):
        if m.group("open_comment"):
            problems.items.append((m.start(), "unterminated comment; rest of file not scanned"))
            break
        if m.group("bad_quote"):
            problems.items.append((m.start(), "unterminated string; skipped to end of line"))
            continue
        for group in ("smap_url", "u_dq", "u_sq", "u_bare", "i_dq", "i_sq"):
            url = m.group(group)
            if url is not None:
                stripped = url.strip()
                if stripped:
                    start = m.start(group) + (len(url) - len(url.lstrip()))
                    kind = "source-map" if group == "smap_url" else "url"
                    refs.append(Reference(stripped, start, start + len(stripped), kind))
                break
    return refs


_MODULE_SPECIFIER = re.compile(r"^(?:\.{1,2})?/")


def _js_references(text: str) -> list[Reference]:
    refs = []
    for m in _JS_RE.finditer(text):
        for group in ("smap_url", "from_url", "side_url", "dyn_url"):
            url = m.group(group)
            if url is not None:
                # Module specifiers must be relative or absolute paths to be
                # files; anything else is a bare name resolved by import maps.
                if group == "smap_url":
                    refs.append(Reference(url, m.start(group), m.end(group), "source-map"))
                elif _MODULE_SPECIFIER.match(url):
                    refs.append(Reference(url, m.start(group), m.end(group)))
                break
    return refs


def _map_references(data: dict[str, Any]) -> list[Reference]:
    """References in a parsed source map; start/end index into ``sources`` (-1 = file)."""
    refs = []
    root = data.get("sourceRoot") or ""
    sources = data.get("sources")
    # With a sourceRoot the entries are resolved against it, not the map: leave them.
    if not root and isinstance(sources, list):
        for i, src in enumerate(sources):
            if isinstance(src, str) and src:
                refs.append(Reference(src, i, i))
    if isinstance(data.get("file"), str) and data["file"]:
        refs.append(Reference(data["file"], -1, -1, kind="map-file"))
    return refs


def find_references(name: str, text: str) -> list[Reference]:
    """All candidate references in the text of file ``name`` (CSS or JS), in order."""
    ext = posixpath.splitext(name)[1].lower()
    if ext == ".css":
        return _css_references(text, _Problems())
    if ext in (".js", ".mjs"):
        return _js_references(text)
    return []


# --- resolving ------------------------------------------------------------

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _split_url(url: str) -> tuple[str, str]:
    """Split ``path?query#fragment`` into (path, "?query#fragment") as written."""
    cut = len(url)
    for ch in "?#":
        i = url.find(ch)
        if i != -1:
            cut = min(cut, i)
    return url[:cut], url[cut:]


def resolve(source_name: str, url: str, static_url: str) -> str | None:
    """The root-relative name ``url`` refers to from ``source_name``, or None if not ours.

    Returns "" for references that leave the root (``../`` too far up).
    """
    if _SCHEME.match(url) or url.startswith("//"):
        return None  # data:, https:, protocol-relative: not a file in the tree
    path, _ = _split_url(url)
    if not path or path.endswith("/"):
        return None  # fragment-only (#id) or a directory
    if path.startswith("/"):
        if not path.startswith(static_url):
            return None  # root-relative but outside the static mount: some other route
        target = path[len(static_url) :]
    else:
        target = posixpath.join(posixpath.dirname(source_name), path)
    target = posixpath.normpath(unquote(target))
    if target.startswith("../") or target == ".." or target.startswith("/"):
        return ""
    return target


def rewrite_url(url: str, target_hashed: str) -> str:
    """Replace the last segment of ``url``'s path by the hashed base name, keeping the rest."""
    path, suffix = _split_url(url)
    head, sep, last = path.rpartition("/")
    hashed_base = target_hashed.rpartition("/")[2]
    decoded = unquote(last)
    root, ext = posixpath.splitext(decoded)
    digest = hashed_base[len(root) + 1 : len(hashed_base) - len(ext)]
    if last.endswith(ext):
        # Keep the author's percent-encoding: insert the hash before the extension.
        new_last = f"{last[: len(last) - len(ext)]}.{digest}{ext}"
    else:
        new_last = quote(hashed_base)
    return f"{head}{sep}{new_last}{suffix}"


# --- the pass over a tree -------------------------------------------------


@dataclass
class HashResult:
    """Outcome of :func:`hash_and_rewrite`.

    ``paths`` maps every original name to its hashed name (the manifest's
    ``paths``); ``written`` lists hashed files created this run (existing,
    identical ones are not rewritten); ``entries`` holds the manifest ``files``
    entries (size, integrity, content type) of every original and hashed
    file, computed from bytes already in memory, for ``write_manifest``;
    ``missing`` lists the references to missing files (see
    :func:`missing_references_report`); ``warnings`` are skipped files and
    syntax problems; ``references`` lists, per rewritten file, the names it
    references (what the incremental build cache propagates changes along).
    """

    paths: dict[str, str] = field(default_factory=dict)
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)
    references: dict[str, list[str]] = field(default_factory=dict)
    missing: list[MissingReference] = field(default_factory=list)


@dataclass
class _Doc:
    name: str
    text: str
    refs: list[tuple[Reference, str]]  # (reference, resolved target name)
    map_data: dict[str, Any] | None = None


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _parse(
    name: str, data: bytes, names: set[str], static_url: str, result: HashResult
) -> _Doc | None:
    """Scan one rewritable file; None when it cannot be treated as text."""
    if b"\0" in data:
        result.warnings.append(
            BuildWarning(name, None, "looks binary (NUL bytes); references not rewritten")
        )
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        result.warnings.append(
            BuildWarning(name, line, "not valid UTF-8; references not rewritten")
        )
        return None
    ext = posixpath.splitext(name)[1].lower()
    map_data = None
    problems = _Problems()
    if ext == ".map":
        try:
            map_data = json.loads(text)
        except ValueError as exc:
            result.warnings.append(
                BuildWarning(name, getattr(exc, "lineno", None), f"not valid JSON ({exc.msg})")
                if isinstance(exc, json.JSONDecodeError)
                else BuildWarning(name, None, "not valid JSON")
            )
            return None
        if not isinstance(map_data, dict):
            return None
        refs = _map_references(map_data)
    elif ext == ".css":
        refs = _css_references(text, problems)
    else:
        refs = _js_references(text)
    for pos, message in problems.items:
        result.warnings.append(BuildWarning(name, _line_of(text, pos), message))
    resolved = []
    for ref in refs:
        target = resolve(name, ref.url, static_url)
        if target is None:
            continue
        if target in names and target != name:
            resolved.append((ref, target))
            continue
        if target == name:
            if ref.kind != "map-file":
                result.warnings.append(
                    BuildWarning(name, _line_of(text, ref.start), "references itself; left as is")
                )
            continue
        line, column = line_and_column(text, ref.start) if map_data is None else (0, 0)
        # Source maps are debugging metadata, often not deployed: never fatal.
        is_map = map_data is not None or ref.kind == "source-map"
        result.missing.append(MissingReference(name, line, column, ref.url, target, is_map))
    return _Doc(name, text, resolved, map_data)


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _find_cycle(graph: dict[str, set[str]], nodes: Iterable[str]) -> list[str]:
    """One cycle among ``nodes`` (which all lie on or behind cycles), as a path."""
    remaining = set(nodes)
    start = min(remaining)
    path, index = [start], {start: 0}
    node = start
    while True:
        node = min(n for n in graph[node] if n in remaining)
        if node in index:
            return [*path[index[node] :], node]
        index[node] = len(path)
        path.append(node)


def dependency_order(graph: dict[str, set[str]]) -> list[str]:
    """Names so that every file comes after the files it references (ties by name).

    Raises :class:`BuildError` naming the files of a reference cycle.
    """
    indegree = {n: 0 for n in graph}
    users: dict[str, list[str]] = {n: [] for n in graph}
    for node, deps in graph.items():
        for dep in deps:
            indegree[node] += 1
            users[dep].append(node)
    ready = [n for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for user in users[node]:
            indegree[user] -= 1
            if indegree[user] == 0:
                heapq.heappush(ready, user)
    if len(order) != len(graph):
        stuck = [n for n in graph if indegree[n] > 0]
        cycle = _find_cycle(graph, stuck)
        raise BuildError(
            "reference cycle, these files cannot be content-hashed: "
            + " -> ".join(cycle)
            + " (break the cycle, e.g. move the shared part into its own file)"
        )
    return order


def _render(doc: _Doc, hashed: dict[str, str]) -> bytes:
    if doc.map_data is not None:
        data = doc.map_data
        changed = False
        sources: Any = data.get("sources")
        for ref, target in doc.refs:
            if target not in hashed:
                continue  # weak back-reference not yet known: keep as is
            new = rewrite_url(ref.url, hashed[target])
            if ref.kind == "map-file":
                data["file"] = new
            else:
                sources[ref.start] = new
            changed = True
        if not changed:
            return doc.text.encode("utf-8")
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    parts, pos = [], 0
    for ref, target in doc.refs:
        parts.append(doc.text[pos : ref.start])
        parts.append(rewrite_url(ref.url, hashed[target]))
        pos = ref.end
    parts.append(doc.text[pos:])
    return "".join(parts).encode("utf-8")


def _write_hashed(
    root: Path,
    name: str,
    data: bytes | None,
    result: HashResult,
    same_as: Path | None = None,
    size: int | None = None,
) -> None:
    """Write hashed file ``name``; ``same_as`` is an original with exactly ``data``.

    ``data`` may be None when ``same_as`` is given, with its ``size``: the
    original is then read only if it cannot be hard-linked.
    """
    dest = root.joinpath(*name.split("/"))
    try:
        # Content-addressed: an existing regular file of this name and size
        # is this content (it was itself written atomically).
        if not dest.is_symlink() and dest.stat().st_size == (
            len(data) if data is not None else size
        ):
            return
    except OSError:
        pass
    if same_as is not None and not same_as.is_symlink():
        # A hard link costs one metadata write instead of a new file: on
        # common disks 20x cheaper. Safe because the build never writes a file
        # in place (every write is temp + rename, a new inode). Originals that
        # are symlinks (--link) point into the sources, which users edit in
        # place, so those get real copies.
        tmp = tmp_path_for(dest)
        try:
            os.link(same_as, tmp)
            os.replace(tmp, dest)
            result.written.append(name)
            return
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    if data is None:
        assert same_as is not None
        data = read_bytes(same_as)
    atomic_write(dest, data)
    result.written.append(name)


def _write_deferred(
    root: Path, names: list[str], hashed: Mapping[str, str], result: HashResult
) -> None:
    """Write the hashed copies of ``names`` that a strict run held back, from their originals."""

    def write(name: str) -> HashResult:
        local = HashResult()
        original = root.joinpath(*name.split("/"))
        size = int(result.entries[name]["size"])
        _write_hashed(root, hashed[name], None, local, same_as=original, size=size)
        return local

    with ThreadPoolExecutor(max_workers=_IO_THREADS) as pool:
        for local in pool.map(write, names):
            result.written.extend(local.written)


def hash_and_rewrite(
    root: str | os.PathLike[str],
    names: Iterable[str],
    *,
    static_url: str = "/static/",
    strict: bool = False,
    keep_only_hashed: bool = False,
    dry_run: bool = False,
    unchanged: Mapping[str, str] | None = None,
    already_hashed: Collection[str] = (),
) -> HashResult:
    """Write a content-hashed copy of every file in ``names`` under ``root``.

    ``names`` are forward-slash paths relative to ``root`` (the collected
    files). References between them are rewritten in the hashed copies. A
    hashed file that already exists (same name = same content) is not
    rewritten. With ``keep_only_hashed`` the originals are deleted afterwards.
    ``static_url`` is the URL prefix the root is served under, used to resolve
    root-relative references such as ``/static/img/a.png``.

    ``unchanged`` (from the incremental build cache, pipeline/cache.py) maps
    names whose hashed copy is known to be current (same content, and every
    file they reference unchanged) to that hashed name: they are not read,
    parsed or written again, but count as present when resolving references.

    Names in ``already_hashed`` (bundler output hashed already, HTML entry
    points) keep their name and bytes: no copy, no rewriting, and references
    to them elsewhere stay as written. Their ``paths`` entry maps them to
    themselves.

    With ``strict``, a reference to a missing file (other than a source map)
    raises :class:`BuildError` before any hashed file is written, as does a
    reference cycle.
    """
    root = Path(root)
    already_hashed = frozenset(already_hashed)
    if not static_url.endswith("/"):
        static_url += "/"
    names = sorted(set(names))
    name_set = set(names)
    result = HashResult()
    docs: dict[str, _Doc] = {}
    hashed: dict[str, str] = {n: h for n, h in (unchanged or {}).items() if n in name_set}
    # With ``strict`` a missing reference found anywhere in the tree stops the
    # run before anything hashed is written: the copies of files without
    # references (images, fonts, plain scripts), which the first pass writes
    # at once otherwise, wait for the check (as names, not bytes).
    defer = strict and not dry_run
    deferred: list[str] = []

    def first_pass(name: str) -> tuple[str, _Doc | None, HashResult]:
        local = HashResult()  # per task, merged in name order: deterministic warnings
        data = read_bytes(root.joinpath(*name.split("/")))
        local.entries[name] = entry_for(name, data)
        if name in already_hashed:
            local.paths[name] = name
            return name, None, local
        if posixpath.splitext(name)[1].lower() in REWRITTEN_EXTENSIONS:
            doc = _parse(name, data, name_set, static_url, local)
            if doc is not None and already_hashed:
                doc.refs = [(r, t) for r, t in doc.refs if t not in already_hashed]
            if doc is not None and doc.refs:
                return name, doc, local
        # Written now, from the bytes just hashed, so the content always
        # matches the name and large trees are never held in memory at once.
        new = hashed_name(name, data)
        local.paths[name] = new
        local.entries[new] = local.entries[name]
        if not (dry_run or defer):
            _write_hashed(root, new, data, local, same_as=root.joinpath(*name.split("/")))
        return name, None, local

    # Threads, not processes: the work is mostly file system calls, which
    # release the GIL and overlap well even on two cores.
    with ThreadPoolExecutor(max_workers=_IO_THREADS) as pool:
        for name, doc, local in pool.map(first_pass, [n for n in names if n not in hashed]):
            result.warnings.extend(local.warnings)
            result.missing.extend(local.missing)
            result.written.extend(local.written)
            result.entries.update(local.entries)
            if doc is not None:
                docs[name] = doc
            else:
                hashed[name] = local.paths[name]
                if defer and name not in already_hashed:
                    deferred.append(name)

    if strict and any(not m.source_map for m in result.missing):
        raise BuildError(
            missing_references_report(
                result.missing,
                fatal=True,
                fix="Fix these references or ship the files; without --strict they only warn.",
            )
        )

    # Strong edges order the work; a source map's `file` back-reference is
    # added only when it does not close a cycle (map <-> js is the norm).
    graph: dict[str, set[str]] = {n: set() for n in docs}
    weak: list[tuple[str, str]] = []
    for name, doc in docs.items():
        for ref, target in doc.refs:
            if target in docs:
                if ref.kind == "map-file":
                    weak.append((name, target))
                else:
                    graph[name].add(target)
    for name, target in sorted(weak):
        if not _reaches(graph, target, name):
            graph[name].add(target)
    order = dependency_order(graph)  # a cycle stops a strict run before it writes
    _write_deferred(root, deferred, hashed, result)
    for name in order:
        data = _render(docs[name], hashed)
        hashed[name] = hashed_name(name, data)
        result.entries[hashed[name]] = entry_for(hashed[name], data)
        if not dry_run:
            _write_hashed(root, hashed[name], data, result)

    result.references = {n: sorted({t for _, t in doc.refs}) for n, doc in docs.items()}
    result.paths = {name: hashed[name] for name in names}
    if dry_run:
        return result
    if keep_only_hashed:
        for name in names:
            if name in already_hashed:
                continue  # it is its own hashed name
            result.entries.pop(name, None)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(root.joinpath(*name.split("/")))
            result.removed.append(name)
    return result
