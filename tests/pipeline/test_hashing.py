"""hash_and_rewrite: Django's hashed names, references rewritten in the hashed copies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from staticserve.pipeline._files import BuildError
from staticserve.pipeline.hashing import (
    MissingReference,
    hash_and_rewrite,
    hashed_name,
    missing_references_report,
)

from .conftest import temp_leftovers, tree, write


def md5_12(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()[:12]


def build(root: Path, **kw):
    return hash_and_rewrite(root, sorted(tree(root)), **kw)


def hashed_text(root: Path, result, name: str) -> str:
    return (root / result.paths[name]).read_text(encoding="utf-8")


# --- names ---------------------------------------------------------------


def test_hashed_name_inserts_first_12_hex_of_md5_before_the_extension() -> None:
    assert hashed_name("css/a.css", b"body{}") == f"css/a.{md5_12(b'body{}')}.css"


def test_hashed_name_splits_like_os_path_splitext() -> None:
    h = md5_12(b"x")
    assert hashed_name("js/jquery.min.js", b"x") == f"js/jquery.min.{h}.js"
    assert hashed_name("LICENSE", b"x") == f"LICENSE.{h}"
    assert hashed_name("a.tar.gz", b"x") == f"a.tar.{h}.gz"


def test_every_file_gets_a_hashed_copy_and_the_original_is_kept(root: Path) -> None:
    png = b"\x89PNG"
    write(root, "img/a.png", png)
    result = build(root)
    assert result.paths == {"img/a.png": f"img/a.{md5_12(png)}.png"}
    assert (root / "img/a.png").read_bytes() == b"\x89PNG"
    assert (root / result.paths["img/a.png"]).read_bytes() == b"\x89PNG"


def test_keep_only_hashed_deletes_the_originals(root: Path) -> None:
    write(root, "a.js", "1")
    result = build(root, keep_only_hashed=True)
    assert sorted(tree(root)) == [result.paths["a.js"]]


def test_dry_run_computes_names_without_writing(root: Path) -> None:
    write(root, "a.js", "1")
    result = build(root, dry_run=True)
    assert "a.js" in result.paths
    assert sorted(tree(root)) == ["a.js"]


def test_hashed_name_is_md5_of_the_rewritten_content(root: Path) -> None:
    write(root, "a.css", "p{background:url(b.png)}")
    write(root, "b.png", b"b")
    result = build(root)
    final = (root / result.paths["a.css"]).read_bytes()
    assert result.paths["a.css"] == f"a.{md5_12(final)}.css"


# --- CSS -----------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    ["url(img/b.png)", "url('img/b.png')", 'url("img/b.png")', 'url(  "img/b.png"  )'],
)
def test_css_url_is_rewritten_in_every_quoting_form(root: Path, ref: str) -> None:
    write(root, "img/b.png", b"b")
    write(root, "a.css", f"p{{background:{ref}}}")
    result = build(root)
    expected = ref.replace("img/b.png", result.paths["img/b.png"])
    assert hashed_text(root, result, "a.css") == f"p{{background:{expected}}}"


@pytest.mark.parametrize("quote", ['"', "'"])
def test_css_import_string_is_rewritten(root: Path, quote: str) -> None:
    write(root, "b.css", "q{}")
    write(root, "a.css", f"@import {quote}b.css{quote};")
    result = build(root)
    assert hashed_text(root, result, "a.css") == f"@import {quote}{result.paths['b.css']}{quote};"


def test_query_string_and_fragment_are_preserved(root: Path) -> None:
    write(root, "f.eot", b"f")
    write(root, "f.svg", "<svg/>")
    write(root, "a.css", 'src:url(f.eot?#iefix) url("f.svg?v=2#icon")')
    result = build(root)
    eot, svg = result.paths["f.eot"], result.paths["f.svg"]
    assert hashed_text(root, result, "a.css") == f'src:url({eot}?#iefix) url("{svg}?v=2#icon")'


def test_relative_directory_part_is_kept_as_written(root: Path) -> None:
    write(root, "img/b.png", b"b")
    write(root, "css/deep/a.css", "p{background:url(../../img/./b.png)}")
    result = build(root)
    h = result.paths["img/b.png"].rsplit("/", 1)[1]
    assert hashed_text(root, result, "css/deep/a.css") == f"p{{background:url(../../img/./{h})}}"


def test_root_relative_reference_under_static_url_is_rewritten(root: Path) -> None:
    write(root, "img/b.png", b"b")
    write(root, "a.css", "p{background:url(/assets/img/b.png)}")
    result = build(root, static_url="/assets/")
    assert hashed_text(root, result, "a.css") == (
        f"p{{background:url(/assets/{result.paths['img/b.png']})}}"
    )


def test_data_absolute_and_foreign_root_urls_are_left_alone_silently(root: Path) -> None:
    css = (
        "a{background:url(data:image/png;base64,AAAA)}"
        "b{background:url(https://cdn.example/x.png)}"
        "c{background:url(//cdn.example/x.png)}"
        "d{background:url(/media/upload.png)}"
        "e{fill:url(#gradient)}"
    )
    write(root, "a.css", css)
    result = build(root)
    assert hashed_text(root, result, "a.css") == css
    assert result.warnings == []


def test_missing_file_is_left_as_written_and_reported_with_line_and_column(root: Path) -> None:
    write(root, "a.css", "p{}\nq{background:url(missing.png)}")
    result = build(root)
    assert "missing.png" in hashed_text(root, result, "a.css")
    assert result.missing == [MissingReference("a.css", 2, 18, "missing.png", "missing.png")]
    assert str(result.missing[0]) == "a.css:2:18: reference to missing file 'missing.png'"


def test_every_missing_reference_is_collected_not_just_the_first(root: Path) -> None:
    write(root, "css/a.css", '@import "gone.css";\np{background:url(../img/x.png)}')
    write(root, "js/app.js", 'import { a } from "./lib/a.js";\n')
    result = build(root)
    assert [str(m) for m in sorted(result.missing)] == [
        "css/a.css:1:10: reference to missing file 'gone.css' (css/gone.css)",
        "css/a.css:2:18: reference to missing file '../img/x.png' (img/x.png)",
        "js/app.js:1:20: reference to missing file './lib/a.js' (js/lib/a.js)",
    ]


def test_strict_reports_every_missing_reference_in_one_error(root: Path) -> None:
    write(root, "a.css", "p{}\nq{background:url(missing.png)}")
    write(root, "b.css", "@import 'c.css';")
    with pytest.raises(BuildError) as caught:
        build(root, strict=True)
    assert str(caught.value) == (
        "2 references to missing files:\n"
        "  a.css:2:18: reference to missing file 'missing.png'\n"
        "  b.css:1:10: reference to missing file 'c.css'\n"
        "Fix these references or ship the files; without --strict they only warn."
    )


def test_strict_does_not_fail_on_a_missing_source_map(root: Path) -> None:
    write(root, "a.js", "var a = 1;\n//# sourceMappingURL=a.js.map\n")
    result = build(root, strict=True)
    assert result.missing == [MissingReference("a.js", 2, 22, "a.js.map", "a.js.map", True)]


def test_strict_writes_nothing_when_a_reference_is_missing(root: Path) -> None:
    write(root, "img/a.png", b"\x89PNG" + bytes(range(99)))
    write(root, "js/plain.js", "console.log(1);\n")
    write(root, "css/a.css", "q{background:url(../img/gone.png)}")
    before = tree(root)
    with pytest.raises(BuildError):
        build(root, strict=True)
    assert tree(root) == before


def test_strict_writes_what_a_plain_run_writes_when_nothing_is_missing(
    root: Path, tmp_path: Path
) -> None:
    files = {
        "img/a.png": b"\x89PNG" + bytes(range(99)),
        "js/plain.js": b"console.log(1);\n",
        "css/a.css": b"q{background:url(../img/a.png)}",
    }
    linked = tmp_path / "linked"
    for name, data in files.items():
        write(root, name, data)
        # Symlinked originals (--link) are copied, not hard-linked: read again.
        write(tmp_path / "sources", name, data)
        (linked / name).parent.mkdir(parents=True, exist_ok=True)
        (linked / name).symlink_to(tmp_path / "sources" / name)
    plain = build(root)
    strict = build(linked, strict=True)
    assert sorted(strict.written) == sorted(plain.written) and len(plain.written) == 3
    assert strict.paths == plain.paths and strict.entries == plain.entries
    for hashed in plain.written:
        assert not (linked / hashed).is_symlink()
        assert (linked / hashed).read_bytes() == (root / hashed).read_bytes()
    again = hash_and_rewrite(linked, sorted(files), strict=True)
    assert again.written == []  # present: not written again


def test_missing_references_report_lists_source_maps_apart_when_fatal() -> None:
    missing = [
        MissingReference("a.js", 2, 22, "a.js.map", "a.js.map", source_map=True),
        MissingReference("a.css", 1, 5, "x.png", "x.png"),
    ]
    assert missing_references_report(missing, fatal=True, fix="FIX") == (
        "1 reference to missing files:\n"
        "  a.css:1:5: reference to missing file 'x.png'\n"
        "1 source map reference to missing files (left as written; not fatal,"
        " only debugging is lost):\n"
        "  a.js:2:22: reference to missing file 'a.js.map'\n"
        "FIX"
    )
    assert missing_references_report(missing, fatal=False, fix="FIX") == (
        "2 references to missing files (left as written):\n"
        "  a.css:1:5: reference to missing file 'x.png'\n"
        "  a.js:2:22: reference to missing file 'a.js.map'"
    )


def test_reference_leaving_the_root_counts_as_missing(root: Path) -> None:
    write(root, "a.css", "p{background:url(../../etc/x.png)}")
    result = build(root)
    assert str(result.missing[0]) == (
        "a.css:1:18: reference to missing file '../../etc/x.png' (outside the static root)"
    )


def test_references_inside_css_comments_and_strings_are_not_rewritten(root: Path) -> None:
    write(root, "b.png", b"b")
    css = '/* url(b.png) */ p::after{content:"url(b.png)"}'
    write(root, "a.css", css)
    result = build(root)
    assert hashed_text(root, result, "a.css") == css


def test_css_source_map_comment_is_rewritten(root: Path) -> None:
    write(root, "a.css.map", '{"version":3,"sources":[],"mappings":""}')
    write(root, "a.css", "p{}\n/*# sourceMappingURL=a.css.map */")
    result = build(root)
    assert hashed_text(root, result, "a.css").endswith(
        f"/*# sourceMappingURL={result.paths['a.css.map']} */"
    )


def test_unbalanced_quote_warns_with_line_and_later_references_still_resolve(
    root: Path,
) -> None:
    write(root, "b.png", b"b")
    write(root, "a.css", 'p{content:"oops}\nq{background:url(b.png)}')
    result = build(root)
    assert [str(w) for w in result.warnings] == [
        "a.css:1: unterminated string; skipped to end of line"
    ]
    assert result.paths["b.png"] in hashed_text(root, result, "a.css")


def test_unterminated_comment_warns_and_stops_scanning(root: Path) -> None:
    write(root, "a.css", "p{}\n/* never closed url(b.png)")
    result = build(root)
    assert [str(w) for w in result.warnings] == [
        "a.css:2: unterminated comment; rest of file not scanned"
    ]


def test_binary_file_named_css_is_hashed_untouched_with_a_warning(root: Path) -> None:
    data = b"\x00\xffurl(x.png)\x00"
    write(root, "fake.css", data)
    result = build(root)
    assert (root / result.paths["fake.css"]).read_bytes() == data
    assert str(result.warnings[0]) == "fake.css: looks binary (NUL bytes); references not rewritten"


def test_non_utf8_css_is_hashed_untouched_with_a_warning_naming_the_line(root: Path) -> None:
    write(root, "latin.css", "p{}\nq{content:'caf\xe9'}".encode("latin-1"))
    result = build(root)
    assert str(result.warnings[0]) == "latin.css:2: not valid UTF-8; references not rewritten"


def test_percent_encoded_names_with_spaces_and_non_ascii_resolve(root: Path) -> None:
    write(root, "fonts/My Font.woff", b"f")
    write(root, "img/café.svg", "<svg/>")
    write(root, "a.css", 'a{src:url("fonts/My%20Font.woff")}b{background:url(img/café.svg)}')
    result = build(root)
    font = result.paths["fonts/My Font.woff"].rsplit("/", 1)[1].replace(" ", "%20")
    img = result.paths["img/café.svg"]
    assert hashed_text(root, result, "a.css") == (
        f'a{{src:url("fonts/{font}")}}b{{background:url({img})}}'
    )


# --- JS and source maps ----------------------------------------------------


def test_js_static_imports_exports_and_dynamic_import_are_rewritten(root: Path) -> None:
    write(root, "lib/b.js", "export const b = 1;")
    js = (
        'import { b } from "./lib/b.js";\n'
        "import * as all from './lib/b.js';\n"
        'import "./lib/b.js";\n'
        'export { b as c } from "./lib/b.js";\n'
        "export * from './lib/b.js';\n"
        'const m = await import("./lib/b.js");\n'
    )
    write(root, "a.js", js)
    result = build(root)
    assert hashed_text(root, result, "a.js") == js.replace("lib/b.js", result.paths["lib/b.js"])


def test_bare_module_specifiers_and_computed_imports_are_left_alone(root: Path) -> None:
    js = 'import x from "lodash";\nimport(`./${name}.js`);\nimport(name);\n'
    write(root, "a.js", js)
    result = build(root)
    assert hashed_text(root, result, "a.js") == js
    assert result.warnings == []


def test_js_source_mapping_url_is_rewritten(root: Path) -> None:
    write(root, "a.js.map", '{"version":3,"file":"a.js","sources":[],"mappings":""}')
    write(root, "a.js", "f();\n//# sourceMappingURL=a.js.map\n")
    result = build(root)
    assert hashed_text(root, result, "a.js") == (
        f"f();\n//# sourceMappingURL={result.paths['a.js.map']}\n"
    )


def test_source_map_sources_and_file_are_rewritten(root: Path) -> None:
    write(root, "src/a.ts", "let a = 1")
    write(root, "a.js", "let a=1")
    write(root, "a.js.map", '{"version":3,"file":"a.js","sources":["src/a.ts"],"mappings":"A"}')
    result = build(root)
    data = json.loads(hashed_text(root, result, "a.js.map"))
    assert data["sources"] == [result.paths["src/a.ts"]]
    assert data["file"] == result.paths["a.js"]
    assert data["mappings"] == "A"


def test_source_map_with_source_root_keeps_its_sources(root: Path) -> None:
    write(root, "src/a.ts", "a")
    write(root, "a.js.map", '{"version":3,"sourceRoot":"/src/","sources":["a.ts"]}')
    result = build(root)
    assert json.loads(hashed_text(root, result, "a.js.map"))["sources"] == ["a.ts"]


def test_js_and_its_map_pointing_at_each_other_is_not_a_cycle(root: Path) -> None:
    write(root, "a.js", "x()\n//# sourceMappingURL=a.js.map")
    write(root, "a.js.map", '{"version":3,"file":"a.js","sources":[],"mappings":""}')
    result = build(root)
    assert result.paths["a.js.map"] in hashed_text(root, result, "a.js")
    # The map cannot name a file whose name depends on the map: it keeps "a.js".
    assert json.loads(hashed_text(root, result, "a.js.map"))["file"] == "a.js"


# --- order, cycles, robustness ---------------------------------------------


def test_files_are_hashed_in_dependency_order(root: Path) -> None:
    write(root, "c.png", b"c")
    write(root, "b.css", "b{background:url(c.png)}")
    write(root, "a.css", "@import 'b.css';")
    result = build(root)
    # a's content names b's hashed name, which names c's: the chain is consistent.
    assert hashed_text(root, result, "a.css") == f"@import '{result.paths['b.css']}';"
    assert result.paths["c.png"] in hashed_text(root, result, "b.css")


def test_a_reference_cycle_is_reported_with_its_files(root: Path) -> None:
    write(root, "a.css", "@import 'b.css';")
    write(root, "b.css", "@import 'c.css';")
    write(root, "c.css", "@import 'a.css';")
    with pytest.raises(BuildError, match=r"reference cycle.*a\.css -> b\.css -> c\.css -> a\.css"):
        build(root)


def test_es_module_import_cycle_is_reported(root: Path) -> None:
    write(root, "a.js", 'import "./b.js";')
    write(root, "b.js", 'import "./a.js";')
    with pytest.raises(BuildError, match=r"a\.js -> b\.js -> a\.js"):
        build(root)


def test_file_vanishing_before_hashing_is_named(root: Path) -> None:
    write(root, "a.css")
    with pytest.raises(BuildError, match=r"gone\.css: file vanished"):
        hash_and_rewrite(root, ["a.css", "gone.css"])
    assert temp_leftovers(root) == []


def test_two_runs_give_identical_names_and_bytes(root: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    for base in (root, other):
        write(base, "img/b.png", b"b")
        write(base, "a.css", "p{background:url(img/b.png)}")
        write(base, "a.js", 'import "./b.js";\n//# sourceMappingURL=a.js.map')
        write(base, "b.js", "1")
        write(base, "a.js.map", '{"version":3,"file":"a.js","sources":["b.js"]}')
    assert build(root).paths == build(other).paths
    assert tree(root) == tree(other)


def test_rerun_does_not_rewrite_existing_hashed_files(root: Path) -> None:
    write(root, "a.css", "p{}")
    assert hash_and_rewrite(root, ["a.css"]).written
    assert hash_and_rewrite(root, ["a.css"]).written == []


def test_hashed_copy_of_a_symlinked_original_is_a_real_file(tmp_path: Path, root: Path) -> None:
    source = write(tmp_path / "src", "a.png", b"png")
    root.mkdir()
    (root / "a.png").symlink_to(source)
    result = build(root)
    hashed = root / result.paths["a.png"]
    assert not hashed.is_symlink()
    source.write_bytes(b"edited in place")  # editors do this; the hashed file must not change
    assert hashed.read_bytes() == b"png"
