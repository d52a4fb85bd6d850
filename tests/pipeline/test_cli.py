"""`staticserve build` / `staticserve find` end to end, on real trees."""

from __future__ import annotations

import argparse
import io
import json
import threading
import urllib.request
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from staticserve.pipeline.cli import add_build_command, add_find_command, main
from staticserve.pipeline.hashing import find_references, resolve

from .conftest import temp_leftovers, tree, write


def run(*argv: str) -> tuple[int, str, str]:
    """Run through a parser built the way the main CLI builds it."""
    parser = argparse.ArgumentParser(prog="staticserve")
    sub = parser.add_subparsers(dest="command", required=True)
    add_build_command(sub)
    add_find_command(sub)
    args = parser.parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = args.func(args, out, err)
    return code, out.getvalue(), err.getvalue()


def sample(src: Path) -> None:
    write(src, "css/site.css", "@import 'base.css';\nh1{background:url(../img/logo.svg?v=1)}")
    write(src, "css/base.css", "body{font:url('../fonts/My Font.woff2')}")
    write(src, "fonts/My Font.woff2", b"wOF2" + bytes(range(256)))
    write(src, "img/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 400 + "</svg>")
    write(src, "js/app.js", 'import { x } from "./lib.js";\n' + "console.log(x);\n" * 100)
    write(src, "js/lib.js", "export const x = 1;\n" * 100)
    write(src, "js/ünï côde.js", "let a = 1;\n" * 100)


def test_build_writes_hashed_files_siblings_and_manifest(src: Path, root: Path) -> None:
    sample(src)
    code, out, err = run("build", str(src), "--out", str(root))
    assert (code, err) == (0, "")
    manifest = json.loads((root / "staticfiles.json").read_text())
    hashed = manifest["paths"]["js/app.js"]
    assert (root / hashed).exists() and (root / f"{hashed}.br").exists()
    assert set(manifest["files"]) == set(manifest["paths"]) | set(manifest["paths"].values())
    assert "| br |" in out


def test_two_builds_give_byte_identical_roots(src: Path, tmp_path: Path) -> None:
    sample(src)
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("build", str(src), "--out", str(a), "-q")[0] == 0
    assert run("build", str(src), "--out", str(b), "-q", "--workers", "1")[0] == 0
    assert tree(a) == tree(b)


def test_rebuild_without_the_cache_copies_and_compresses_nothing_new(src: Path, root: Path) -> None:
    # (With the cache the rebuild stops at "up to date": tests/pipeline/test_stamp.py.)
    sample(src)
    run("build", str(src), "--out", str(root))
    before = tree(root)
    code, out, _ = run("build", str(src), "--out", str(root), "--no-cache")
    assert code == 0
    assert "copied 0, 7 unchanged" in out
    assert "hash: 7 files, 0 hashed files written" in out
    assert "| br | 0 |" in out
    assert tree(root) == before


def test_a_rebuild_counts_hashed_files_written_and_unchanged_without_entry_points(
    src: Path, root: Path
) -> None:
    sample(src)
    write(src, "index.html", "<script src='js/app.js'></script>")  # keeps its name
    run("build", str(src), "--out", str(root), "-q")
    write(src, "img/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    code, out, _ = run("build", str(src), "--out", str(root))
    assert code == 0
    # logo.svg and site.css, which references it; index.html is not a hashed file.
    assert "hash: 7 files, 2 hashed files written, 5 unchanged (build cache)" in out


@pytest.mark.parametrize(
    "options", [["--encodings", "gzip"], ["--min-saving", "90%"]], ids=["encodings", "min-saving"]
)
def test_a_rebuild_with_other_compression_options_equals_a_clean_build(
    src: Path, tmp_path: Path, options: list[str]
) -> None:
    sample(src)
    again, clean = tmp_path / "again", tmp_path / "clean"
    assert run("build", str(src), "--out", str(again), "-q")[0] == 0
    assert run("build", str(src), "--out", str(again), "-q", *options)[0] == 0
    assert run("build", str(src), "--out", str(clean), "-q", *options)[0] == 0
    assert tree(again) == tree(clean)


def test_missing_source_exits_1_naming_it(tmp_path: Path, root: Path) -> None:
    code, _, err = run("build", str(tmp_path / "nowhere"), "--out", str(root))
    assert code == 1
    assert f"source directory does not exist: {tmp_path / 'nowhere'}" in err


def test_root_inside_source_exits_1(src: Path) -> None:
    sample(src)
    code, _, err = run("build", str(src), "--out", str(src / "static"))
    assert code == 1 and "inside source" in err
    assert not (src / "static").exists()


def test_strict_missing_reference_exits_1_naming_file_and_line(src: Path, root: Path) -> None:
    write(src, "a.css", "p{}\nq{background:url(nope.png)}")
    code, _, err = run("build", str(src), "--out", str(root), "--strict")
    assert code == 1
    assert (
        "error: 1 reference to missing files:\n  a.css:2:18: reference to missing file 'nope.png'"
        in err
    )
    assert "staticfiles.json" not in tree(root)


def test_missing_reference_without_strict_is_a_warning(src: Path, root: Path) -> None:
    write(src, "a.css", "q{background:url(nope.png)}")
    code, _, err = run("build", str(src), "--out", str(root))
    assert code == 0
    assert (
        "warning: 1 reference to missing files (left as written):\n"
        "  a.css:1:18: reference to missing file 'nope.png'\n"
    ) in err


THREE_BROKEN = {
    "css/site.css": 'p { color: red }\n@import "theme.css";\n'
    'body { background: url("../img/gone.png"); }\n',
    "js/app.js": 'import { a } from "./lib/a.js";\nconsole.log(a);\n',
}
THREE_REPORTED = (
    "3 references to missing files{state}:\n"
    "  css/site.css:2:10: reference to missing file 'theme.css' (css/theme.css)\n"
    "  css/site.css:3:25: reference to missing file '../img/gone.png' (img/gone.png)\n"
    "  js/app.js:1:20: reference to missing file './lib/a.js' (js/lib/a.js)\n"
)


def test_strict_names_every_missing_reference_with_file_line_and_column(
    src: Path, root: Path
) -> None:
    for name, text in THREE_BROKEN.items():
        write(src, name, text)
    code, _, err = run("build", str(src), "--out", str(root), "--strict")
    assert code == 1
    assert "error: " + THREE_REPORTED.format(state="") in err
    assert "without --strict they only warn" in err


def test_plain_build_warns_with_the_same_report(src: Path, root: Path) -> None:
    for name, text in THREE_BROKEN.items():
        write(src, name, text)
    code, _, err = run("build", str(src), "--out", str(root))
    assert code == 0
    assert "warning: " + THREE_REPORTED.format(state=" (left as written)") in err


def test_rebuild_from_the_cache_reports_missing_references_again(src: Path, root: Path) -> None:
    for name, text in THREE_BROKEN.items():
        write(src, name, text)
    assert run("build", str(src), "--out", str(root))[0] == 0
    code, _, err = run("build", str(src), "--out", str(root))
    assert code == 0 and THREE_REPORTED.format(state=" (left as written)") in err
    code, _, err = run("build", str(src), "--out", str(root), "--strict")
    assert code == 1 and "error: " + THREE_REPORTED.format(state="") in err


def test_cycle_exits_1_with_the_cycle(src: Path, root: Path) -> None:
    write(src, "a.css", "@import 'b.css';")
    write(src, "b.css", "@import 'a.css';")
    code, _, err = run("build", str(src), "--out", str(root))
    assert code == 1 and "a.css -> b.css -> a.css" in err


def test_dry_run_writes_nothing(src: Path, root: Path) -> None:
    sample(src)
    code, out, _ = run("build", str(src), "--out", str(root), "--dry-run")
    assert code == 0 and "would copy 7" in out and "  css/site.css" in out
    assert not root.exists()


def test_keep_only_hashed_serves_only_hashed_names(src: Path, root: Path) -> None:
    sample(src)
    run("build", str(src), "--out", str(root), "--keep-only-hashed", "--no-compress")
    manifest = json.loads((root / "staticfiles.json").read_text())
    assert sorted(manifest["files"]) == sorted(manifest["paths"].values())


def test_no_hash_and_no_compress_only_collects(src: Path, root: Path) -> None:
    sample(src)
    run("build", str(src), "--out", str(root), "--no-hash", "--no-compress")
    names = set(tree(root)) - {"staticfiles.json"}
    assert names == set(tree(src))


def test_ignore_option_is_repeatable(src: Path, root: Path) -> None:
    sample(src)
    run("build", str(src), "--out", str(root), "-i", "*.svg", "--ignore", "fonts", "--no-hash")
    assert not any(n.endswith(".svg") or n.startswith("fonts/") for n in tree(root))


def test_failed_build_leaves_no_temporary_files(src: Path, root: Path) -> None:
    write(src, "a.css", "p{}")
    (src / "loop.css").symlink_to(src / "loop.css")
    code, _, err = run("build", str(src), "--out", str(root))
    assert code == 1 and "loop.css" in err
    assert temp_leftovers(root) == []


def test_find_prints_the_winning_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "x.css")
    write(b, "x.css")
    code, out, _ = run("find", "x.css", "-s", str(a), "-s", str(b))
    assert code == 0
    assert out == f"Found 'x.css' here:\n  {a.resolve() / 'x.css'}\n"


def test_find_all_prints_every_candidate(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "x.css")
    write(b, "x.css")
    _, out, _ = run("find", "x.css", "-s", str(a), "-s", str(b), "--all")
    assert out.splitlines()[1:] == [f"  {a.resolve() / 'x.css'}", f"  {b.resolve() / 'x.css'}"]


def test_find_verbosity_2_lists_searched_locations(tmp_path: Path) -> None:
    a = tmp_path / "a"
    write(a, "x.css")
    _, out, _ = run("find", "x.css", "-s", f"vendor={a}", "-v", "2")
    assert "Looking in the following locations:" in out
    assert f"  {a.resolve()} (as vendor/)" in out


def test_find_missing_path_exits_1(src: Path) -> None:
    code, _, err = run("find", "nope.css", "-s", str(src))
    assert code == 1 and "No matching file found for 'nope.css'." in err


def test_find_a_path_built_but_deleted_from_its_source_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = tmp_path / "app"
    write(app, "assets/js/lib/m79.js", "export const m = 79;\n")
    write(app, "assets/js/app.js", "console.log(1);\n")
    assert run("build", str(app / "assets"), "--out", str(app / "static"), "-q")[0] == 0
    (app / "assets/js/lib/m79.js").unlink()
    monkeypatch.chdir(app)
    code, out, err = run("find", "js/lib/m79.js")
    assert code == 1
    built = (app / "static/js/lib/m79.js").resolve()
    assert out.startswith(f"Built as {built} (hashed: js/lib/m79.")
    assert err.startswith("No matching file found for 'js/lib/m79.js'.")
    assert "no source does any more: rebuild to drop it" in err and err.count("\n") == 1
    # Still found in a source: exit 0, as before.
    assert run("find", "js/app.js")[0] == 0


def test_failed_strict_build_writes_no_hashed_file_on_a_fresh_root(src: Path, root: Path) -> None:
    for name, text in THREE_BROKEN.items():
        write(src, name, text)
    write(src, "img/logo.png", b"\x89PNG" + bytes(range(256)))
    write(src, "js/plain.js", "console.log(1);\n" * 50)
    code, _, err = run("build", str(src), "--out", str(root), "--strict")
    assert code == 1 and "error: " + THREE_REPORTED.format(state="") in err
    assert set(tree(root)) == set(tree(src))  # the copies and nothing else


def test_failed_strict_build_keeps_the_earlier_build_and_adds_nothing(
    src: Path, root: Path
) -> None:
    sample(src)
    assert run("build", str(src), "--out", str(root), "--strict", "-q")[0] == 0
    before = tree(root)
    # New files without references (hashed at once otherwise) and one broken reference.
    write(src, "img/new.png", b"\x89PNG" + bytes(range(200)))
    write(src, "js/lib.js", "export const x = 2;\n" * 100)
    write(src, "css/broken.css", "p{background:url(../img/gone.png)}")
    code, _, err = run("build", str(src), "--out", str(root), "--strict")
    assert code == 1 and "css/broken.css:1:18: reference to missing file" in err
    after = tree(root)
    copies = {"img/new.png", "css/broken.css"}  # collect's copies are all it leaves
    assert set(after) == set(before) | copies
    assert {n: after[n] for n in before if n != "js/lib.js"} == {
        n: data for n, data in before.items() if n != "js/lib.js"
    }
    assert after["staticfiles.json"] == before["staticfiles.json"]


def test_main_runs_standalone(src: Path, root: Path) -> None:
    write(src, "a.css", "p{}")
    assert main(["build", str(src), "--out", str(root), "-q"]) == 0


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def test_round_trip_every_rewritten_reference_is_served_immutable(src: Path, root: Path) -> None:
    from staticserve import StaticServeWSGI

    sample(src)
    assert run("build", str(src), "--out", str(root), "-q")[0] == 0
    manifest = json.loads((root / "staticfiles.json").read_text())
    app = StaticServeWSGI(None, root=root, prefix="/static/")
    server = make_server("127.0.0.1", 0, app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/static/"
        targets = set()
        for original, hashed in manifest["paths"].items():
            text = (root / hashed).read_bytes().decode("utf-8", "replace")
            for ref in find_references(hashed, text):
                target = resolve(hashed, ref.url, "/static/")
                assert target in manifest["files"], (original, ref.url)
                targets.add(target)
        assert len(targets) == 4
        for target in sorted(targets):
            quoted = urllib.request.quote(target)
            with urllib.request.urlopen(base + quoted) as resp:
                assert resp.status == 200
                assert "immutable" in resp.headers["Cache-Control"]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("bad", ["2", "-0.1", "150%"])
def test_min_saving_must_be_a_fraction(src: Path, root: Path, bad: str) -> None:
    with pytest.raises(SystemExit):
        run("build", str(src), "--out", str(root), "--min-saving", bad)
