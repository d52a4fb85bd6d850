"""The incremental build cache: rebuilds redo only what a change reaches, byte for byte."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from staticserve import StaticIndex
from staticserve.pipeline.cache import CACHE_NAME, FORMAT, encode

from .conftest import tree, write
from .test_cli import run

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def sources(src: Path) -> None:
    """Reference chains: a leaf image under three CSS levels, ES modules sharing one."""
    write(src, "img/leaf.png", PNG)
    write(src, "img/icon.svg", "<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 300 + "</svg>")
    write(src, "css/base.css", "body { background: url(../img/leaf.png) }\n" + "p{}\n" * 80)
    write(src, "css/mid.css", '@import "base.css";\n.i { background: url(../img/icon.svg) }\n')
    write(src, "css/site.css", '@import "mid.css";\n' + "h1 { color: red }\n" * 60)
    write(src, "js/util.mjs", "export const x = 1;\n" * 60)
    write(src, "js/a.mjs", 'import { x } from "./util.mjs";\nexport const a = x;\n' * 20)
    write(src, "js/b.mjs", 'import { x } from "./util.mjs";\nexport const b = x;\n' * 20)
    write(
        src,
        "js/main.mjs",
        'import "./a.mjs";\nimport "./b.mjs";\n'
        + "console.log(1);\n" * 40
        # A map whose sources were not shipped: warnings every build must repeat.
        + "//# sourceMappingURL=main.mjs.map\n",
    )
    write(src, "js/main.mjs.map", '{"version":3,"file":"main.mjs","sources":["../ts/main.ts"]}')
    write(src, "other/readme.txt", "unrelated " * 50)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file's (inode, mtime_ns): what changes when a file is rewritten."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            st = os.stat(os.path.join(dirpath, f))
            out[os.path.relpath(os.path.join(dirpath, f), root)] = (st.st_ino, st.st_mtime_ns)
    return out


def build(src: Path, root: Path, *extra: str) -> tuple[dict, str]:
    code, _out, err = run("build", str(src), "--out", str(root), "-q", *extra)
    assert code == 0, err
    return json.loads((root / "staticfiles.json").read_text()), err


def rebuilt(
    tmp_path: Path,
    change: Callable[[Path], None],
    spoil: Callable[[Path], None] = lambda root: None,
) -> tuple[Path, Path, Path, set[str], tuple[str, str]]:
    """Build, change the sources, rebuild with the cache, with --no-cache and from scratch.

    ``spoil`` is given the incremental root (its cache) before the change.
    Returns (incremental root, uncached rebuild root, clean root, files the
    incremental rebuild wrote, (incremental warnings, uncached warnings)).
    """
    src, inc, uncached, clean = (tmp_path / n for n in ("src", "inc", "uncached", "clean"))
    sources(src)
    build(src, inc)
    shutil.copytree(inc, uncached, symlinks=True)  # copytree keeps mtimes: same state
    spoil(inc)
    before = snapshot(inc)
    change(src)
    _, inc_err = build(src, inc)
    _, uncached_err = build(src, uncached, "--no-cache")
    build(src, clean)
    after = snapshot(inc)
    written = {n for n, st in after.items() if before.get(n) != st}
    return inc, uncached, clean, written, (inc_err, uncached_err)


def assert_same_output(inc: Path, uncached: Path, clean: Path) -> None:
    assert tree(inc) == tree(uncached)  # the cache changes nothing, manifest included
    inc_files, clean_files = tree(inc), tree(clean)
    for name, data in clean_files.items():
        if name != "staticfiles.json":
            assert inc_files.get(name) == data, name
    m_inc = json.loads(inc_files["staticfiles.json"])
    m_clean = json.loads(clean_files["staticfiles.json"])
    assert (m_inc["paths"], m_inc["hash"]) == (m_clean["paths"], m_clean["hash"])
    assert m_clean["files"].items() <= m_inc["files"].items()


def hashed_of(root: Path, *names: str) -> set[str]:
    """The hashed names of ``names`` in ``root``'s manifest, with their siblings."""
    paths = json.loads((root / "staticfiles.json").read_text())["paths"]
    out = set()
    for name in names:
        out |= {n for n in snapshot(root) if n == paths[name] or n.startswith(paths[name] + ".")}
    return out


def originals(root: Path, *names: str) -> set[str]:
    return {n for n in snapshot(root) for name in names if n == name or n.startswith(name + ".")}


BOOKKEEPING = {"staticfiles.json", CACHE_NAME}


def test_changing_a_leaf_image_rebuilds_exactly_the_css_chain_above_it(tmp_path: Path) -> None:
    inc, uncached, clean, written, _ = rebuilt(
        tmp_path, lambda src: write(src, "img/leaf.png", PNG[::-1])
    )
    assert_same_output(inc, uncached, clean)
    chain = ("img/leaf.png", "css/base.css", "css/mid.css", "css/site.css")
    assert written == BOOKKEEPING | originals(inc, "img/leaf.png") | hashed_of(inc, *chain)


def test_changing_a_mid_level_css_rebuilds_it_and_what_imports_it(tmp_path: Path) -> None:
    inc, uncached, clean, written, _ = rebuilt(
        tmp_path, lambda src: write(src, "css/mid.css", '@import "base.css";\n.m { x: 1 }\n')
    )
    assert_same_output(inc, uncached, clean)
    assert written == (
        BOOKKEEPING | originals(inc, "css/mid.css") | hashed_of(inc, "css/mid.css", "css/site.css")
    )


def test_changing_a_module_imported_by_two_rebuilds_both_and_their_importer(
    tmp_path: Path,
) -> None:
    inc, uncached, clean, written, (inc_err, uncached_err) = rebuilt(
        tmp_path, lambda src: write(src, "js/util.mjs", "export const x = 2;\n" * 60)
    )
    assert_same_output(inc, uncached, clean)
    modules = ("js/util.mjs", "js/a.mjs", "js/b.mjs", "js/main.mjs")
    assert written == BOOKKEEPING | originals(inc, "js/util.mjs") | hashed_of(inc, *modules)
    assert "ts/main.ts" in inc_err and inc_err == uncached_err  # warnings repeated, same order


def test_deleting_a_referenced_file_gives_the_clean_builds_output(tmp_path: Path) -> None:
    inc, uncached, clean, _, (inc_err, uncached_err) = rebuilt(
        tmp_path, lambda src: os.unlink(src / "img/icon.svg")
    )
    assert_same_output(inc, uncached, clean)
    assert "icon.svg" in inc_err and inc_err == uncached_err


def test_renaming_a_file_gives_the_clean_builds_output(tmp_path: Path) -> None:
    def rename(src: Path) -> None:
        os.rename(src / "js/b.mjs", src / "js/b2.mjs")
        main = (src / "js/main.mjs").read_text().replace("./b.mjs", "./b2.mjs")
        write(src, "js/main.mjs", main)

    inc, uncached, clean, _, _ = rebuilt(tmp_path, rename)
    assert_same_output(inc, uncached, clean)


def test_a_rebuild_with_nothing_changed_writes_nothing_but_the_bookkeeping(
    tmp_path: Path,
) -> None:
    inc, uncached, clean, written, _ = rebuilt(tmp_path, lambda src: None)
    assert_same_output(inc, uncached, clean)
    assert written <= BOOKKEEPING


def test_a_touched_source_is_not_recompressed(tmp_path: Path) -> None:
    def touch(src: Path) -> None:
        st = os.stat(src / "css/site.css")
        os.utime(src / "css/site.css", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))

    inc, uncached, clean, written, _ = rebuilt(tmp_path, touch)
    assert_same_output(inc, uncached, clean)
    # The copy is new, its siblings keep their inodes (same bytes, new mtime only).
    for suffix in (".br", ".gz"):
        assert f"css/site.css{suffix}" in written
        st_inc = os.stat(inc / f"css/site.css{suffix}")
        st_unc = os.stat(uncached / f"css/site.css{suffix}")
        assert st_inc.st_mtime_ns == st_unc.st_mtime_ns


# --- a cache that cannot be trusted -------------------------------------------


def cached_build_then(tmp_path: Path, spoil: Callable[[Path], None]) -> tuple[Path, Path, str]:
    src, root, clean = tmp_path / "src", tmp_path / "root", tmp_path / "clean"
    sources(src)
    build(src, root)
    spoil(root)
    write(src, "img/leaf.png", PNG[::-1])
    _, err = build(src, root)
    build(src, clean)
    return root, clean, err


def edit_cache(root: Path, change: Callable[[dict], None]) -> None:
    """Change the cache's content as the build would have written it (checksum renewed)."""
    data = json.loads((root / CACHE_NAME).read_text())
    del data["checksum"]
    change(data)
    (root / CACHE_NAME).write_bytes(encode(data))


def assert_current_release_matches(root: Path, clean: Path) -> None:
    built = tree(root)
    for name, data in tree(clean).items():
        if name != "staticfiles.json":
            assert built.get(name) == data, name


@pytest.mark.parametrize(
    "garbage", [b"{not json", b"\xff\xfe", b"[]", b'{"format": "%s"}' % FORMAT.encode()]
)
def test_a_corrupt_cache_is_ignored_with_a_warning(tmp_path: Path, garbage: bytes) -> None:
    root, clean, err = cached_build_then(tmp_path, lambda r: (r / CACHE_NAME).write_bytes(garbage))
    assert CACHE_NAME in err and "ignored (full build)" in err
    assert_current_release_matches(root, clean)


def test_a_cache_with_malformed_entries_is_ignored_with_a_warning(tmp_path: Path) -> None:
    def spoil(data: dict) -> None:
        name = next(iter(data["files"]))
        data["files"][name][0] = "big"  # [size, mtime_ns, digest, siblings]

    root, clean, err = cached_build_then(tmp_path, lambda r: edit_cache(r, spoil))
    assert "malformed entries" in err
    assert_current_release_matches(root, clean)


def test_a_cache_edited_by_hand_is_ignored_like_a_corrupt_one(tmp_path: Path) -> None:
    """Still valid JSON, but the leaf image pruned from the references of what uses it."""

    def prune(root: Path) -> None:
        data = json.loads((root / CACHE_NAME).read_text())
        pruned = 0
        for record in data["originals"].values():  # [size, mtime_ns, hashed, refs, ...]
            if record[3] and "img/leaf.png" in record[3]:
                record[3].remove("img/leaf.png")
                pruned += 1
        assert pruned
        (root / CACHE_NAME).write_text(json.dumps(data, separators=(",", ":")))

    inc, uncached, clean, _, (inc_err, _) = rebuilt(
        tmp_path, lambda src: write(src, "img/leaf.png", PNG[::-1]), prune
    )
    assert f"{CACHE_NAME}: build cache is corrupt" in inc_err
    assert "ignored (full build)" in inc_err
    assert_same_output(inc, uncached, clean)


def test_a_cache_of_the_previous_format_is_ignored_with_a_warning(tmp_path: Path) -> None:
    def downgrade(root: Path) -> None:
        data = json.loads((root / CACHE_NAME).read_text())
        del data["checksum"]
        data["format"] = "staticserve-build-cache/1"
        (root / CACHE_NAME).write_text(json.dumps(data, separators=(",", ":")))

    root, clean, err = cached_build_then(tmp_path, downgrade)
    assert "not a staticserve build cache of this format; ignored (full build)" in err
    assert_current_release_matches(root, clean)


def test_a_cache_from_another_root_is_ignored_with_a_warning(tmp_path: Path) -> None:
    other_src, other = tmp_path / "other-src", tmp_path / "other"
    write(other_src, "css/base.css", "body { color: blue }\n" * 40)
    build(other_src, other)
    root, clean, err = cached_build_then(
        tmp_path, lambda r: shutil.copy2(other / CACHE_NAME, r / CACHE_NAME)
    )
    assert "does not belong to this root's manifest" in err
    assert_current_release_matches(root, clean)


def test_a_forged_entry_cannot_change_the_output(tmp_path: Path) -> None:
    """An entry whose stat does not match its file is never used."""

    def spoil(data: dict) -> None:
        for record in data["originals"].values():
            record[2] = "css/forged.000000000000.css"  # [size, mtime_ns, hashed, ...]
        for record in data["files"].values():
            record[1] += 1

    root, clean, _err = cached_build_then(tmp_path, lambda r: edit_cache(r, spoil))
    assert_current_release_matches(root, clean)
    assert not (root / "css/forged.000000000000.css").exists()


def test_other_settings_rebuild_in_full(tmp_path: Path) -> None:
    src, root, clean = tmp_path / "src", tmp_path / "root", tmp_path / "clean"
    sources(src)
    build(src, root)
    code, out, err = run("build", str(src), "--out", str(root), "--min-saving", "0.5")
    assert code == 0 and "cache" not in err  # a settings change is not a problem
    assert "other settings" in out
    build(src, clean, "--min-saving", "0.5")
    assert_current_release_matches(root, clean)


def test_the_cache_is_never_served(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root)
    assert (root / CACHE_NAME).is_file()
    index = StaticIndex()
    index.add_root(root, "/static/")
    assert index.lookup("/static/" + CACHE_NAME) is None


def test_no_cache_still_writes_a_fresh_cache(tmp_path: Path) -> None:
    src, root = tmp_path / "src", tmp_path / "root"
    sources(src)
    build(src, root, "--no-cache")
    before = snapshot(root)
    build(src, root)
    assert {n for n, st in snapshot(root).items() if before[n] != st} <= BOOKKEEPING
