"""The `staticserve` command's own subcommands, run in-process."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from staticserve import __version__
from staticserve.cli import build_parser, main
from tests.support.servers import REPO, free_port

EXAMPLE = REPO / "examples" / "src"


def test_check_reports_how_many_files_a_root_serves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.css").write_text("a{}")
    (tmp_path / ".secret").write_text("x")
    assert main(["check", str(tmp_path)]) == 0
    assert "servable under /static/: 1 files" in capsys.readouterr().out


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


def test_version_flag_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"staticserve {__version__}"


def test_python_dash_m_staticserve_runs_the_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "staticserve", "--version"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"staticserve {__version__}"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_every_option_of_every_subcommand_has_help_text(command: str) -> None:
    parser = _subcommands()[command]
    missing = [
        "/".join(a.option_strings) or a.dest
        for a in parser._actions
        if not a.help or a.help == argparse.SUPPRESS
    ]
    assert missing == []


@pytest.mark.parametrize(
    "prefix",
    ["../x", "/a/../b", "http://x/", "//cdn.example/static/", "static/", "/a b/", "/x?y"],
)
@pytest.mark.parametrize("command", ["serve", "check"])
def test_a_bad_prefix_is_one_line_naming_it(
    command: str, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, str(tmp_path), "--prefix", prefix])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and repr(prefix) in err


def test_a_usage_mistake_is_one_line_and_no_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ROOT" in err and "--help" in err


def _built_app(tmp_path: Path) -> Path:
    """An application directory with its sources in assets/ built into static/."""
    shutil.copytree(EXAMPLE, tmp_path / "assets")
    (tmp_path / "assets" / ".DS_Store").write_text("x")
    assert main(["build", "-q", str(tmp_path / "assets"), "--out", str(tmp_path / "static")]) == 0
    (tmp_path / "static" / ".hidden").write_text("x")
    return tmp_path


def test_check_says_what_it_left_out_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _built_app(tmp_path)
    assert main(["check", str(app / "static")]) == 0
    out = capsys.readouterr().out
    assert "compressed siblings (served as encodings of their original)" in out
    assert "1 manifest staticfiles.json (read, never served)" in out
    assert "1 dotfiles/dot-directories (never served)" in out


def test_check_counts_files_put_into_a_built_root_after_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = _built_app(tmp_path)
    assert main(["check", str(app / "static")]) == 0
    assert "does not list" not in capsys.readouterr().out
    (app / "static" / "LICENSE").write_text("x")
    (app / "static" / "css" / "late.css").write_text("x")
    assert main(["check", str(app / "static")]) == 0
    out = capsys.readouterr().out
    assert "2 files staticfiles.json does not list (put there after the build" in out


def test_serve_and_check_report_the_same_file_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The example has index.html: serve's index page at / must not count twice.
    app = _built_app(tmp_path)
    assert main(["check", str(app / "static"), "--prefix", "/"]) == 0
    checked = capsys.readouterr().out.split(": ", 2)[2]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "staticserve",
            "serve",
            str(app / "static"),
            "--port",
            str(free_port()),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        first_line = proc.stdout.readline()
    finally:
        proc.terminate()
        proc.wait(20)
    assert first_line.startswith("staticserve: serving")
    assert f"({checked.strip()}) at http://" in first_line


def test_build_records_its_sources_in_the_manifest(tmp_path: Path) -> None:
    app = _built_app(tmp_path)
    manifest = json.loads((app / "static" / "staticfiles.json").read_text())
    assert manifest["sources"] == [{"path": "../assets"}]


def test_find_without_sources_uses_the_built_root_here(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _built_app(tmp_path)
    monkeypatch.chdir(app)
    assert main(["find", "css/site.css", "--all"]) == 0
    out = capsys.readouterr().out
    assert str(app / "assets" / "css" / "site.css") in out
    assert f"Built as {app / 'static' / 'css' / 'site.css'} (hashed: css/site." in out


def test_find_inside_the_built_root_needs_no_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _built_app(tmp_path)
    monkeypatch.chdir(app / "static")
    assert main(["find", "js/app.js"]) == 0
    assert str(app / "assets" / "js" / "app.js") in capsys.readouterr().out


def test_find_with_nothing_to_search_says_what_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["find", "css/site.css"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass -s DIR" in err and "--root" in err


def test_find_with_a_root_that_was_not_built_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["find", "css/site.css", "--root", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path) in err and "staticfiles.json" in err


@pytest.mark.parametrize(
    "args",
    [["--static-url", "static/"], ["--static-url", "/a/../b/"], ["-j", "0"], ["-j", "x"]],
)
def test_a_bad_build_option_is_one_line_naming_it(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["build", str(EXAMPLE), "--out", str(tmp_path / "out"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and repr(args[1]) in err
    assert not (tmp_path / "out").exists()


def test_build_accepts_a_cdn_url_as_static_url(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        main(
            [
                "build",
                "-q",
                str(EXAMPLE),
                "--out",
                str(out),
                "--static-url",
                "https://cdn.example/s/",
            ]
        )
        == 0
    )
    assert (out / "staticfiles.json").is_file()
