"""The `staticserve` command's own subcommands, run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from staticserve.cli import main


def test_check_reports_how_many_files_a_root_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.css").write_text("a{}")
    (tmp_path / ".secret").write_text("x")
    assert main(["check", str(tmp_path)]) == 0
    assert "1 files servable under /static/" in capsys.readouterr().out


def test_check_of_a_missing_root_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "is not a directory" in err and err.count("\n") == 1


def test_build_and_find_are_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert all(name in out for name in ("serve", "check", "build", "find"))
