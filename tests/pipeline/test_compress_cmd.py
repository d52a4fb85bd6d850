"""`staticserve compress DIR`: compression in place, for `python -m whitenoise.compress` users."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from staticserve.cli import main
from staticserve.index import StaticIndex
from staticserve.pipeline.compress_cmd import add_compress_command
from staticserve.resource import Resource

CSS = b"".join(b".c%03d { color: red; }\n" % i for i in range(200))
MTIME = 1_600_000_000


@pytest.fixture
def site(tmp_path: Path) -> Path:
    for rel, data in {
        "css/a.css": CSS,
        "js/a.js": CSS,
        "a.map": CSS,
        "img.png": b"\x89PNG" * 99,
    }.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (MTIME, MTIME))
    return tmp_path


def test_every_compressible_file_gets_siblings_beside_it(site: Path) -> None:
    assert main(["compress", str(site), "-q"]) == 0
    for rel in ("css/a.css", "js/a.js", "a.map"):
        for suffix in (".br", ".gz", ".zst"):
            assert (site / (rel + suffix)).is_file(), rel + suffix
    assert not (site / "img.png.gz").exists()  # already compressed formats are skipped


def test_siblings_keep_their_originals_mtime(site: Path) -> None:
    main(["compress", str(site), "-q"])
    for sibling in site.rglob("*.gz"):
        original = sibling.with_name(sibling.name[: -len(".gz")])
        assert sibling.stat().st_mtime_ns == original.stat().st_mtime_ns == MTIME * 10**9


def test_a_second_run_rewrites_nothing(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["compress", str(site), "-q"])
    inode = (site / "css/a.css.br").stat().st_ino
    assert main(["compress", str(site)]) == 0
    assert "| br | 0 | 3 |" in capsys.readouterr().out
    assert (site / "css/a.css.br").stat().st_ino == inode


def test_extensions_given_are_not_compressed(site: Path) -> None:
    main(["compress", str(site), "map", "-q"])
    assert not (site / "a.map.gz").exists() and (site / "css/a.css.gz").exists()


def test_no_brotli_and_no_gzip(site: Path) -> None:
    main(["compress", str(site), "--no-brotli", "--no-gzip", "-q"])
    assert not (site / "css/a.css.br").exists() and not (site / "css/a.css.gz").exists()
    assert (site / "css/a.css.zst").exists()


def test_the_compressed_directory_is_served_with_its_variants(site: Path) -> None:
    main(["compress", str(site), "-q"])
    index = StaticIndex()
    index.add_root(site, "/static/")
    resource = index.lookup("/static/css/a.css")
    assert isinstance(resource, Resource)
    assert {v.encoding for v in resource.encoded} == {"br", "gzip", "zstd"}
    assert "/static/css/a.css.gz" not in index.urls()


def test_a_missing_directory_is_exit_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compress", str(tmp_path / "nope")]) == 2
    assert "nope is not a directory" in capsys.readouterr().err


def test_min_saving_takes_a_percentage_as_build_does(site: Path) -> None:
    parser = argparse.ArgumentParser(prog="staticserve")
    add_compress_command(parser.add_subparsers())
    assert parser.parse_args(["compress", str(site), "--min-saving", "50%"]).min_saving == 0.5
    assert parser.parse_args(["compress", str(site), "--min-saving", "0.1"]).min_saving == 0.1
    assert main(["compress", str(site), "--min-saving", "50%", "-q"]) == 0
    assert (site / "css/a.css.gz").is_file()  # 200 repeated lines save far more than half


@pytest.mark.parametrize("bad", ["2", "-0.1", "150%", "half"])
def test_a_bad_min_saving_is_a_one_line_usage_error(
    site: Path, capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(site), "--min-saving", bad])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("usage:")]
    assert len(lines) == 1 and "--min-saving" in lines[0] and "expected a fraction" in lines[0]
