"""collect: several sources into one root, first source wins."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from staticserve.pipeline._files import BuildError
from staticserve.pipeline.collect import (
    Source,
    collect,
    find,
    find_files,
    is_ignored,
    parse_source,
)

from .conftest import temp_leftovers, tree, write


def test_first_source_that_has_a_path_wins(tmp_path: Path, root: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "css/site.css", "from a")
    write(b, "css/site.css", "from b")
    write(b, "only-b.js", "b")
    collect([Source(a), Source(b)], root)
    assert (root / "css/site.css").read_text() == "from a"
    assert (root / "only-b.js").read_text() == "b"


def test_prefix_mounts_a_source_under_a_directory(tmp_path: Path, root: Path) -> None:
    dist = tmp_path / "node_modules/x/dist"
    write(dist, "x.js", "x")
    collect([parse_source(f"vendor={dist}")], root)
    assert (root / "vendor/x.js").read_text() == "x"


def test_parse_source_takes_an_existing_directory_with_equals_whole(tmp_path: Path) -> None:
    odd = tmp_path / "a=b"
    odd.mkdir()
    assert parse_source(str(odd)) == Source(odd)


def test_default_ignores_skip_dotfiles_cvs_and_backups(src: Path, root: Path) -> None:
    for name in ["keep.css", ".hidden", ".git/config", "CVS/Entries", "old.css~", "a/.DS_Store"]:
        write(src, name)
    collect([Source(src)], root)
    assert sorted(tree(root)) == ["keep.css"]


def test_ignore_glob_matches_names_and_paths() -> None:
    assert is_ignored("a/b/notes.md", ["*.md"])
    assert is_ignored("vendor/src/x.ts", ["vendor/src/*"])
    assert not is_ignored("app/src/x.ts", ["vendor/src/*"])
    assert is_ignored("node_modules/x/y.js", ["node_modules"])


def test_extra_ignore_patterns_apply_during_collect(src: Path, root: Path) -> None:
    write(src, "a.js")
    write(src, "a.ts")
    write(src, "scss/x.scss")
    collect([Source(src)], root, ignore=["*.ts", "scss"])
    assert sorted(tree(root)) == ["a.js"]


def test_missing_source_is_an_error_naming_it(tmp_path: Path, root: Path) -> None:
    with pytest.raises(BuildError, match=r"does not exist: .*nope"):
        collect([Source(tmp_path / "nope")], root)


def test_root_inside_a_source_is_refused(src: Path) -> None:
    write(src, "a.css")
    with pytest.raises(BuildError, match="inside source"):
        collect([Source(src)], src / "out")
    assert not (src / "out").exists()


def test_source_inside_the_root_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "root/src", "a.css")
    with pytest.raises(BuildError, match="inside output root"):
        collect([Source(tmp_path / "root/src")], tmp_path / "root")


def test_clear_empties_the_root_first(src: Path, root: Path) -> None:
    write(src, "new.css")
    write(root, "stale/old.css")
    collect([Source(src)], root, clear=True)
    assert sorted(tree(root)) == ["new.css"]


def test_clear_never_follows_symlinks_out_of_the_root(tmp_path: Path, src: Path) -> None:
    outside = tmp_path / "precious"
    write(outside, "keep.txt", "keep")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link")
    write(src, "a.css")
    collect([Source(src)], root, clear=True)
    assert (outside / "keep.txt").read_text() == "keep"
    assert not os.path.lexists(root / "link")


def test_dry_run_writes_nothing_but_reports_the_copies(src: Path, root: Path) -> None:
    write(src, "a.css")
    result = collect([Source(src)], root, dry_run=True)
    assert result.copied == ["a.css"]
    assert not root.exists()


def test_link_puts_symlinks_to_the_sources(src: Path, root: Path) -> None:
    write(src, "a.css", "a")
    collect([Source(src)], root, link=True)
    assert (root / "a.css").is_symlink()
    assert os.readlink(root / "a.css") == str((src / "a.css").resolve())


def test_second_run_copies_only_what_changed(src: Path, root: Path) -> None:
    write(src, "same.css", "same")
    changed = write(src, "changed.css", "v1")
    collect([Source(src)], root)
    changed.write_text("v2 longer")
    result = collect([Source(src)], root)
    assert result.copied == ["changed.css"]
    assert result.unchanged == ["same.css"]
    assert (root / "changed.css").read_text() == "v2 longer"


def test_names_with_spaces_and_non_ascii_are_collected(src: Path, root: Path) -> None:
    write(src, "fonts/My Font.woff", b"font")
    write(src, "img/café ☕.svg", "<svg/>")
    files = collect([Source(src)], root).files
    assert sorted(files) == ["fonts/My Font.woff", "img/café ☕.svg"]
    assert (root / "img/café ☕.svg").read_text() == "<svg/>"


def test_file_vanishing_mid_build_is_named_and_leaves_no_partial_file(
    src: Path, root: Path
) -> None:
    write(src, "a.css")
    gone = write(src, "was-here.css")
    os.symlink(gone, src / "c.css")
    # Listed as a file, then its content disappears before it is copied.
    gone.unlink()
    with pytest.raises(BuildError, match=r"c\.css: file vanished"):
        collect([Source(src)], root)
    assert temp_leftovers(root) == []
    assert not (root / "c.css").exists()


def test_unreadable_file_is_named(src: Path, root: Path) -> None:
    # A symlink loop cannot be read by anyone, root included.
    os.symlink(src / "loop.css", src / "loop.css")
    with pytest.raises(BuildError, match=r"loop\.css"):
        collect([Source(src)], root)
    assert not root.exists() or temp_leftovers(root) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of mode")
def test_permission_denied_file_is_named(src: Path, root: Path) -> None:
    locked = write(src, "locked.css")
    locked.chmod(0)
    with pytest.raises(BuildError, match=r"locked\.css"):
        collect([Source(src)], root)


def test_find_files_lists_each_name_once_sorted(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "z.js")
    write(b, "z.js")
    write(b, "a.js")
    assert list(find_files([Source(a), Source(b)])) == ["a.js", "z.js"]


def test_find_returns_the_winner_or_every_candidate(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "x.css")
    write(b, "x.css")
    sources = [Source(a), Source(b)]
    assert find("x.css", sources) == [a / "x.css"]
    assert find("x.css", sources, find_all=True) == [a / "x.css", b / "x.css"]
    assert find("nope.css", sources) == []


def test_find_respects_prefixes_and_refuses_parent_paths(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    write(dist, "x.js")
    sources = [Source(dist, "vendor")]
    assert find("vendor/x.js", sources) == [dist / "x.js"]
    assert find("x.js", sources) == []
    assert find("vendor/../../etc/passwd", sources) == []
