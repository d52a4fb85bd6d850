"""The no-change fast path: a rebuild with nothing changed reads and writes nothing.

Each test builds for real into tmp_path, changes something (or nothing), and
checks that the fast path was taken exactly when the root is what a full
build would write, by comparing with a build that has no cache.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from staticserve.pipeline.cache import CACHE_NAME
from staticserve.pipeline.collect import Source, collectable
from staticserve.pipeline.stamp import (
    RACY_NS,
    input_signature,
    make_stamp,
    read_stamp,
    root_signature,
    up_to_date,
)

from .conftest import tree, write
from .test_cli import run

UP_TO_DATE = "up to date: "


def sources(src: Path) -> None:
    write(src, "css/site.css", "body { background: url(../img/a.png) }\n" + "p{}\n" * 80)
    write(src, "img/a.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    write(src, "js/app.js", "console.log(1);\n" * 60 + "//# sourceMappingURL=gone.js.map\n")


def build(src: Path, root: Path, *extra: str) -> tuple[str, str]:
    code, out, err = run("build", str(src), "--out", str(root), *extra)
    assert code == 0, err
    return out, err


def stats(root: Path) -> dict[str, tuple[int, int, int]]:
    """(inode, mtime_ns, ctime_ns) of every file, the cache and the manifest included."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            st = os.stat(os.path.join(dirpath, f))
            out[os.path.relpath(os.path.join(dirpath, f), root)] = (
                st.st_ino,
                st.st_mtime_ns,
                st.st_ctime_ns,
            )
    return out


def assert_as_clean_build(src: Path, root: Path, tmp_path: Path) -> None:
    """``root`` holds what a clean build of ``src`` writes (plus earlier releases' entries)."""
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build(src, clean, "-q", "--no-cache")
    ours, theirs = tree(root), tree(clean)
    m_ours, m_theirs = (json.loads(t.pop("staticfiles.json")) for t in (ours, theirs))
    assert {n: d for n, d in ours.items() if n in theirs} == theirs
    assert (m_ours["paths"], m_ours["hash"]) == (m_theirs["paths"], m_theirs["hash"])
    assert m_theirs["files"].items() <= m_ours["files"].items()


def test_a_rebuild_with_nothing_changed_writes_no_file_at_all(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root)
    before = stats(root)
    out, _ = build(src, root)
    assert UP_TO_DATE in out and "copied 0, 3 unchanged" in out
    assert stats(root) == before  # not even the manifest or the cache


def test_an_up_to_date_rebuild_repeats_the_warnings_of_the_build_it_skips(
    tmp_path: Path,
) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    _, first = build(src, root)
    out, again = build(src, root)
    assert UP_TO_DATE in out
    assert "gone.js.map" in first and again == first


def test_a_same_size_edit_with_the_mtime_restored_is_rebuilt(tmp_path: Path) -> None:
    """What size + mtime alone miss (cp -p, rsync -t, touch -d): the ctime moved."""
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root)
    css = src / "css/site.css"
    st = os.stat(css)
    css.write_text(css.read_text().replace("p{}", "q{}"))
    os.utime(css, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(css).st_size, os.stat(css).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    out, _ = build(src, root)
    assert UP_TO_DATE not in out
    assert_as_clean_build(src, root, tmp_path)


def test_a_racy_source_is_checked_by_content(tmp_path: Path) -> None:
    """A source changed just before the build could change again in the same
    timestamp tick with an equal stat: its stamp entry is a content digest."""
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    files = collectable([Source(src, "")], root)
    # As if the build had started just after site.css was written (however long
    # this build took on a loaded machine).
    started = os.stat(src / "css/site.css").st_ctime_ns + 1
    inputs = input_signature({"k": 1}, files, started)
    assert "css/site.css" in inputs.racy
    stamp = make_stamp(root, inputs, link=False, served=6, collected=3, warnings=[])
    assert stamp is not None and up_to_date(root, stamp, inputs)
    # The same stat signature (the same `inputs`), other bytes: not up to date.
    (src / "css/site.css").write_text("changed")
    assert not up_to_date(root, stamp, inputs)


def test_a_source_older_than_the_racy_window_is_trusted_by_its_stat(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    files = collectable([Source(src, "")], root)
    later = time.time_ns() + RACY_NS + 10**9  # as if the build started 3 s from now
    inputs = input_signature({"k": 1}, files, later)
    assert inputs.racy == []
    stamp = make_stamp(root, inputs, link=False, served=6, collected=3, warnings=[])
    assert stamp is not None and stamp["racy"] == {}


def test_a_deleted_sibling_in_the_root_is_written_again(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    (root / "css/site.css.br").unlink()
    out, _ = build(src, root)
    assert UP_TO_DATE not in out
    assert_as_clean_build(src, root, tmp_path)


def test_an_output_edited_in_the_root_is_not_up_to_date(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    hashed = json.loads((root / "staticfiles.json").read_text())["paths"]["js/app.js"]
    data = (root / hashed).read_bytes()
    (root / hashed).write_bytes(data.upper())  # same size
    out, _ = build(src, root)
    assert UP_TO_DATE not in out  # looked at again, as a build without the cache would


def test_a_file_dropped_into_the_root_gets_into_the_manifest(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    write(root, "robots.txt", "User-agent: *\n" * 10)
    out, _ = build(src, root)
    assert UP_TO_DATE not in out
    assert "robots.txt" in json.loads((root / "staticfiles.json").read_text())["files"]


def test_an_added_source_is_collected(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    write(src, "js/new.js", "let n = 1;\n" * 40)
    out, _ = build(src, root)
    assert UP_TO_DATE not in out
    assert_as_clean_build(src, root, tmp_path)


def test_other_options_are_not_up_to_date(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    for options in (["--keep", "1"], ["--encodings", "gzip"], ["--ignore", "*.png"]):
        out, _ = build(src, root, *options)
        assert UP_TO_DATE not in out, options
        out, _ = build(src, root, *options)
        assert UP_TO_DATE in out, options  # and the same options again are


def test_no_cache_never_takes_the_fast_path(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    out, _ = build(src, root, "--no-cache")
    assert UP_TO_DATE not in out and "| br |" in out


def test_a_cache_without_a_stamp_gives_a_normal_build_that_writes_one(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    cache = root / CACHE_NAME
    data = json.loads(cache.read_text())
    del data["stamp"]
    cache.write_text(json.dumps(data))
    assert read_stamp(root) is None
    out, _ = build(src, root)
    assert UP_TO_DATE not in out and read_stamp(root) is not None


def test_a_corrupt_stamp_is_ignored(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "-q")
    cache = root / CACHE_NAME
    cache.write_text('{"stamp":{"inputs":1}, "format": "x"}')
    assert read_stamp(root) is None
    out, err = build(src, root)
    assert UP_TO_DATE not in out and "ignored (full build)" in err
    assert_as_clean_build(src, root, tmp_path)


def test_the_root_signature_ignores_dotfiles_only(tmp_path: Path) -> None:
    write(tmp_path, "a.css", "a")
    before = root_signature(tmp_path)
    write(tmp_path, ".hidden", "x")
    assert root_signature(tmp_path) == before
    write(tmp_path, "b.css", "b")
    assert root_signature(tmp_path) != before
