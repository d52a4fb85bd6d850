"""compress_tree: deterministic .br/.gz/.zst siblings, only where they pay off."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import brotli
import pytest
import zstandard

from staticserve.pipeline import compress
from staticserve.pipeline._files import BuildError
from staticserve.pipeline.compress import available_encodings, compress_bytes, compress_tree

from .conftest import temp_leftovers, tree, write

TEXT = ("body { color: red; margin: 0 auto; }\n" * 200).encode()


def test_writes_br_gz_and_zst_siblings_that_decode_to_the_file(root: Path) -> None:
    write(root, "a.css", TEXT)
    summary = compress_tree(root)
    assert brotli.decompress((root / "a.css.br").read_bytes()) == TEXT
    assert gzip.decompress((root / "a.css.gz").read_bytes()) == TEXT
    assert zstandard.ZstdDecompressor().decompress((root / "a.css.zst").read_bytes()) == TEXT
    assert {e: s.written for e, s in summary.encodings.items()} == {"br": 1, "gzip": 1, "zstd": 1}


def test_gzip_header_has_no_mtime_and_no_file_name(root: Path) -> None:
    out = compress_bytes(TEXT, "gzip")
    flags, mtime = out[3], out[4:8]
    assert flags == 0  # no FNAME, no FCOMMENT, no FEXTRA
    assert mtime == b"\0\0\0\0"


def test_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for base in (a, b):
        write(base, "x.js", TEXT)
    compress_tree(a)
    compress_tree(b, workers=1)
    assert tree(a) == tree(b)


def test_already_compressed_formats_are_skipped(root: Path) -> None:
    write(root, "a.png", TEXT)
    write(root, "f.woff2", TEXT)
    summary = compress_tree(root)
    assert sorted(tree(root)) == ["a.png", "f.woff2"]
    assert summary.skipped_incompressible == 2


def test_variant_saving_less_than_min_saving_is_not_kept(root: Path) -> None:
    write(root, "random.txt", os.urandom(4000))
    summary = compress_tree(root)
    assert sorted(tree(root)) == ["random.txt"]
    assert summary.encodings["br"].not_worth_it == 1


def test_min_saving_is_configurable(root: Path) -> None:
    write(root, "a.css", TEXT)
    compress_tree(root, min_saving=0.999)
    assert sorted(tree(root)) == ["a.css"]


def test_stale_sibling_is_removed_when_its_variant_stops_paying_off(root: Path) -> None:
    path = write(root, "a.txt", TEXT)
    compress_tree(root)
    path.write_bytes(os.urandom(4000))
    compress_tree(root)
    assert sorted(tree(root)) == ["a.txt"]


def test_up_to_date_siblings_are_not_recompressed(root: Path) -> None:
    write(root, "a.css", TEXT)
    compress_tree(root)
    again = compress_tree(root)
    assert again.encodings["br"].written == 0
    assert again.encodings["br"].up_to_date == 1


def test_a_changed_file_is_recompressed(root: Path) -> None:
    path = write(root, "a.css", TEXT)
    compress_tree(root)
    path.write_bytes(TEXT + b"p{}")
    os.utime(path, ns=(1, 1))  # even an older mtime differs from the sibling's
    compress_tree(root)
    assert brotli.decompress((root / "a.css.br").read_bytes()) == TEXT + b"p{}"


def test_identical_files_are_compressed_once_and_both_get_siblings(root: Path) -> None:
    write(root, "a.css", TEXT)
    write(root, "a.0123456789ab.css", TEXT)
    summary = compress_tree(root, encodings=["br"])
    assert summary.encodings["br"].written == 2
    assert (root / "a.css.br").read_bytes() == (root / "a.0123456789ab.css.br").read_bytes()


def test_process_pool_gives_the_same_bytes_as_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compress, "_INLINE_COST", 0)  # a pool even for this little work
    a, b = tmp_path / "a", tmp_path / "b"
    for base in (a, b):
        for i in range(6):
            write(base, f"f{i}.js", TEXT + str(i).encode())
    compress_tree(a, workers=2)
    compress_tree(b, workers=1)
    assert tree(a) == tree(b)


def test_names_limit_the_work_to_those_files(root: Path) -> None:
    write(root, "a.css", TEXT)
    write(root, "b.css", TEXT + b"b")
    compress_tree(root, names=["a.css"], encodings=["gz"])
    assert sorted(tree(root)) == ["a.css", "a.css.gz", "b.css"]


def test_progress_is_reported_per_job(root: Path) -> None:
    write(root, "a.css", TEXT)
    seen = []
    compress_tree(
        root, encodings=["gzip", "br"], workers=1, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]


def test_summary_table_lists_each_encoding(root: Path) -> None:
    write(root, "a.css", TEXT)
    table = compress_tree(root).table()
    assert "| br | 1 |" in table and "| gzip | 1 |" in table


def test_unknown_encoding_is_an_error(root: Path) -> None:
    with pytest.raises(BuildError, match="unknown encoding 'lzma'"):
        compress_tree(root, encodings=["lzma"])


def test_missing_brotli_warns_and_skips_br(root: Path) -> None:
    write(root, "a.css", TEXT)
    code = (
        "import sys; sys.modules['brotli'] = None\n"
        "from staticserve.pipeline.compress import compress_tree, available_encodings\n"
        "s = compress_tree(sys.argv[1], encodings=['br', 'gzip'])\n"
        "print(available_encodings()); print(*s.warnings)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    assert "'br'" not in out.splitlines()[0]
    assert "br requested but not installed" in out
    assert sorted(tree(root)) == ["a.css", "a.css.gz"]


def test_vanished_file_is_named(root: Path) -> None:
    with pytest.raises(BuildError, match=r"gone\.css: file vanished"):
        compress_tree(root, names=["gone.css"])


def test_no_temporary_files_are_left(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compress, "_INLINE_COST", 0)
    for i in range(4):
        write(root, f"f{i}.css", TEXT + bytes([i]))
    compress_tree(root, workers=2)
    assert temp_leftovers(root) == []


def test_a_little_work_is_done_without_starting_a_pool(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An incremental rebuild with a few small files to compress forks no workers."""
    import concurrent.futures

    def no_pool(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_pool)
    for i in range(4):
        write(root, f"f{i}.css", TEXT + bytes([i]))
    summary = compress_tree(root, workers=2)
    assert summary.encodings["br"].written == 4


def test_available_encodings_lists_installed_ones() -> None:
    assert available_encodings() == ("br", "gzip", "zstd")


def test_an_up_to_date_sibling_not_worth_it_under_a_higher_min_saving_is_removed(
    tmp_path: Path,
) -> None:
    # As a clean run with that min_saving leaves the tree.
    again, clean = tmp_path / "again", tmp_path / "clean"
    half_random = os.urandom(1500) + TEXT[:2000]  # saves some, not 90 %
    for base in (again, clean):
        write(base, "a.css", TEXT)
        write(base, "b.js", half_random)
    compress_tree(again)
    summary = compress_tree(again, min_saving=0.9)
    compress_tree(clean, min_saving=0.9)
    assert tree(again) == tree(clean)
    assert "b.js.gz" not in tree(again) and "a.css.gz" in tree(again)
    assert summary.encodings["gzip"].not_worth_it == 1


def test_drop_other_encodings_removes_the_siblings_of_encodings_not_asked_for(
    tmp_path: Path,
) -> None:
    again, clean = tmp_path / "again", tmp_path / "clean"
    for base in (again, clean):
        write(base, "a.css", TEXT)
    compress_tree(again)
    compress_tree(again, encodings=["gzip"], drop_other_encodings=True)
    compress_tree(clean, encodings=["gzip"])
    assert tree(again) == tree(clean) and sorted(tree(again)) == ["a.css", "a.css.gz"]


def test_without_drop_other_encodings_other_siblings_are_left_alone(root: Path) -> None:
    # `staticserve compress` on a bundler's output: its own .br files stay.
    write(root, "a.css", TEXT)
    write(root, "a.css.br", b"from the bundler")
    compress_tree(root, encodings=["gzip"])
    assert (root / "a.css.br").read_bytes() == b"from the bundler"
