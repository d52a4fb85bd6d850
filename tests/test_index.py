"""StaticIndex: what gets indexed, under which URL, with which facts."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from staticserve.config import Config, ConfigError
from staticserve.index import StaticIndex, normalize_prefix
from staticserve.pipeline.cache import CACHE_NAME
from staticserve.plan import FileSlice
from staticserve.resource import IMMUTABLE_CACHE_CONTROL, Redirect, Resource, content_etag
from staticserve.service import StaticFiles
from tests.support.disk_edits import edit_keeping_size_and_mtime, replace_keeping_size_and_mtime


def write(root: Path, rel: str, data: bytes = b"x" * 100) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def index_of(root: Path, prefix: str = "/static/", **options: object) -> StaticIndex:
    index = StaticIndex(Config(**options))  # type: ignore[arg-type]
    index.add_root(root, prefix)
    return index


def resource(index: StaticIndex, url: str) -> Resource:
    entry = index.lookup(url)
    assert isinstance(entry, Resource), f"{url} -> {entry!r}"
    return entry


def cache_control(res: Resource) -> str:
    return dict(res.identity.plan_get.headers)[b"cache-control"].decode()


@pytest.mark.parametrize(
    ("given", "expected"),
    [("static", "/static/"), ("/static", "/static/"), ("/static/", "/static/"), ("/", "/"),
     ("", "/"), ("/a/b/", "/a/b/")],
)  # fmt: skip
def test_prefixes_are_normalised(given: str, expected: str) -> None:
    assert normalize_prefix(given) == expected


def test_files_are_indexed_under_the_prefix(tmp_path: Path) -> None:
    write(tmp_path, "css/app.css")
    index = index_of(tmp_path)
    assert index.urls() == ["/static/css/app.css"]
    assert resource(index, "/static/css/app.css").identity.size == 100


def test_several_roots_each_under_its_own_prefix(tmp_path: Path) -> None:
    write(tmp_path / "a", "one.js")
    write(tmp_path / "b", "two.js")
    index = StaticIndex()
    index.add_root(tmp_path / "a", "/static/")
    index.add_root(tmp_path / "b", "/")
    assert index.urls() == ["/static/one.js", "/two.js"]
    assert index.prefixes == ("/static/", "/")


def test_first_root_wins_for_the_same_url(tmp_path: Path) -> None:
    write(tmp_path / "a", "app.js", b"first")
    write(tmp_path / "b", "app.js", b"second")
    index = StaticIndex()
    index.add_root(tmp_path / "a")
    index.add_root(tmp_path / "b")
    assert resource(index, "/static/app.js").identity.path == str(tmp_path / "a" / "app.js")


def test_missing_root_is_a_startup_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.*is not a directory"):
        index_of(tmp_path / "nope")


def test_missing_root_is_accepted_with_autorefresh_and_served_once_it_exists(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="staticserve"):
        index = index_of(tmp_path / "later", autorefresh=True)
    assert "does not exist yet" in caplog.text
    assert index.lookup("/static/app.js") is None
    write(tmp_path / "later", "app.js", b"here")
    assert resource(index, "/static/app.js").identity.size == 4


# -- validators -------------------------------------------------------------------------------


def etag(res: Resource) -> str:
    return res.identity.etag


def test_etag_without_a_manifest_comes_from_the_content(tmp_path: Path) -> None:
    a = write(tmp_path / "a", "app.js", b"same bytes")
    b = write(tmp_path / "b", "app.js", b"same bytes")
    os.utime(a, (1_700_000_000, 1_700_000_000))
    os.utime(b, (1_800_000_000, 1_800_000_000))
    assert etag(resource(index_of(a.parent), "/static/app.js")) == etag(
        resource(index_of(b.parent), "/static/app.js")
    )


def test_content_etag_equals_the_build_manifest_etag(tmp_path: Path) -> None:
    from staticserve.pipeline.manifest import file_entry

    path = write(tmp_path, "app.js", b"console.log(1)")
    without = etag(resource(index_of(tmp_path), "/static/app.js"))
    write_manifest(tmp_path, {}, {"app.js": file_entry(path, "app.js")})
    assert etag(resource(index_of(tmp_path), "/static/app.js")) == without


@pytest.mark.parametrize("mtime", [0, 1])
def test_same_size_edit_with_normalised_mtime_gets_a_new_etag_in_a_new_process(
    tmp_path: Path, mtime: int
) -> None:
    path = write(tmp_path, "app.css", b"body{color:red}")
    os.utime(path, (mtime, mtime))
    old = etag(resource(index_of(tmp_path), "/static/app.css"))
    path.write_bytes(b"body{color:b1u}")
    os.utime(path, (mtime, mtime))
    assert etag(resource(index_of(tmp_path), "/static/app.css")) != old


@pytest.mark.parametrize(
    ("mtime", "sent"),
    [(0, False), (1, False), (315_532_799, False), (315_532_800, True), (1_700_000_000, True)],
)
def test_last_modified_is_omitted_for_mtimes_before_1980(
    tmp_path: Path, mtime: int, sent: bool
) -> None:
    path = write(tmp_path, "app.css")
    os.utime(path, (mtime, mtime))
    headers = dict(resource(index_of(tmp_path), "/static/app.css").identity.plan_get.headers)
    assert (b"last-modified" in headers) is sent


def test_unknown_url_is_none(tmp_path: Path) -> None:
    write(tmp_path, "app.js")
    assert index_of(tmp_path).lookup("/static/other.js") is None


# -- what is never indexed ---------------------------------------------------------


def test_dotfiles_and_dot_directories_are_not_indexed(tmp_path: Path) -> None:
    write(tmp_path, ".env")
    write(tmp_path, ".git/config")
    write(tmp_path, "ok.css")
    assert index_of(tmp_path).urls() == ["/static/ok.css"]


def test_dotfiles_can_be_included(tmp_path: Path) -> None:
    write(tmp_path, ".well-known/security.txt")
    assert index_of(tmp_path, include_dotfiles=True).urls() == ["/static/.well-known/security.txt"]


def test_build_cache_is_never_indexed_even_with_dotfiles(tmp_path: Path) -> None:
    write(tmp_path, CACHE_NAME, b"{}")
    write(tmp_path, ".well-known/security.txt")
    assert index_of(tmp_path, include_dotfiles=True).urls() == ["/static/.well-known/security.txt"]


def test_build_cache_is_not_found_on_disk_by_autorefresh(tmp_path: Path) -> None:
    write(tmp_path, CACHE_NAME, b"{}")
    index = index_of(tmp_path, include_dotfiles=True, autorefresh=True)
    assert index.lookup("/static/" + CACHE_NAME) is None


def test_symlink_outside_the_root_is_not_indexed(tmp_path: Path) -> None:
    secret = write(tmp_path / "outside", "secret.txt", b"secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.txt").symlink_to(secret)
    (root / "linkdir").symlink_to(secret.parent)
    assert index_of(root).urls() == []


def test_symlink_outside_the_root_can_be_allowed(tmp_path: Path) -> None:
    secret = write(tmp_path / "outside", "shared.txt")
    root = tmp_path / "root"
    root.mkdir()
    (root / "shared.txt").symlink_to(secret)
    assert index_of(root, follow_outside_symlinks=True).urls() == ["/static/shared.txt"]


def test_symlink_inside_the_root_is_indexed(tmp_path: Path) -> None:
    write(tmp_path, "real/app.css")
    (tmp_path / "alias").symlink_to(tmp_path / "real")
    assert index_of(tmp_path).urls() == ["/static/alias/app.css", "/static/real/app.css"]


def test_symlink_loops_terminate(tmp_path: Path) -> None:
    write(tmp_path, "d/app.css")
    (tmp_path / "d" / "loop").symlink_to(tmp_path / "d")
    urls = index_of(tmp_path).urls()
    assert "/static/d/app.css" in urls and len(urls) <= 2


def test_dangling_symlink_is_not_indexed(tmp_path: Path) -> None:
    (tmp_path / "gone.css").symlink_to(tmp_path / "missing.css")
    assert index_of(tmp_path).urls() == []


def test_fifos_are_not_indexed(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.css")
    assert index_of(tmp_path).urls() == []


def test_names_that_are_not_utf8_are_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / os.fsdecode(b"bad\xff.css")).write_bytes(b"x")
    with caplog.at_level(logging.WARNING, "staticserve"):
        assert index_of(tmp_path).urls() == []
    assert "not valid UTF-8" in caplog.text


def test_non_ascii_names_are_indexed_by_their_unicode_url(tmp_path: Path) -> None:
    write(tmp_path, "café/menü.css")
    assert index_of(tmp_path).urls() == ["/static/café/menü.css"]


def test_the_manifest_itself_is_not_served(tmp_path: Path) -> None:
    write(tmp_path, "staticfiles.json", b'{"version": "1.1", "paths": {}}')
    assert index_of(tmp_path).urls() == []


def test_unreadable_directory_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "ok.css")
    write(tmp_path, "locked/secret.css")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    # Tests run as root, where chmod cannot deny reads; simulate the denial.
    monkeypatch.setattr(os, "scandir", scandir)
    with caplog.at_level(logging.WARNING, "staticserve"):
        assert index_of(tmp_path).urls() == ["/static/ok.css"]
    assert "locked" in caplog.text and "Permission denied" in caplog.text


# -- compressed siblings ---------------------------------------------------------------


def test_siblings_are_variants_not_urls(tmp_path: Path) -> None:
    write(tmp_path, "app.js", b"a" * 1000)
    write(tmp_path, "app.js.br", b"b" * 10)
    write(tmp_path, "app.js.gz", b"g" * 20)
    write(tmp_path, "app.js.zst", b"z" * 15)
    index = index_of(tmp_path)
    assert index.urls() == ["/static/app.js"]
    res = resource(index, "/static/app.js")
    assert [v.encoding for v in res.encoded] == ["br", "zstd", "gzip"]  # by size


def test_sibling_without_original_is_an_ordinary_file(tmp_path: Path) -> None:
    write(tmp_path, "data.json.gz")
    index = index_of(tmp_path)
    res = resource(index, "/static/data.json.gz")
    assert res.content_type == "application/gzip" and res.encoded == ()


def test_sibling_not_smaller_than_the_original_is_not_used(tmp_path: Path) -> None:
    write(tmp_path, "tiny.css", b"a{}")
    write(tmp_path, "tiny.css.gz", b"much longer than the original")
    res = resource(index_of(tmp_path), "/static/tiny.css")
    assert res.encoded == ()
    assert b"vary" not in dict(res.identity.plan_get.headers)


# -- caching headers -------------------------------------------------------------------


def test_hashed_names_are_immutable(tmp_path: Path) -> None:
    write(tmp_path, "app.3f2a1b9c8d7e.js")
    res = resource(index_of(tmp_path), "/static/app.3f2a1b9c8d7e.js")
    assert cache_control(res) == IMMUTABLE_CACHE_CONTROL


def test_other_files_get_a_short_max_age(tmp_path: Path) -> None:
    write(tmp_path, "app.js")
    assert cache_control(resource(index_of(tmp_path), "/static/app.js")) == "public, max-age=60"


def test_max_age_is_configurable(tmp_path: Path) -> None:
    write(tmp_path, "app.js")
    res = resource(index_of(tmp_path, max_age=600), "/static/app.js")
    assert cache_control(res) == "public, max-age=600"


def test_autorefresh_defaults_to_no_cache(tmp_path: Path) -> None:
    write(tmp_path, "app.js")
    res = resource(index_of(tmp_path, autorefresh=True), "/static/app.js")
    assert cache_control(res) == "no-cache"


def test_immutable_test_regex_is_searched_in_the_full_url(tmp_path: Path) -> None:
    write(tmp_path, "vendor/lib-1.2.3.js")
    index = index_of(tmp_path, immutable_file_test=r"^/static/vendor/")
    assert cache_control(resource(index, "/static/vendor/lib-1.2.3.js")) == IMMUTABLE_CACHE_CONTROL


def test_immutable_test_callable_gets_the_full_url(tmp_path: Path) -> None:
    write(tmp_path, "a.js")
    index = index_of(tmp_path, immutable_file_test=lambda path, url: url == "/static/a.js")
    assert cache_control(resource(index, "/static/a.js")) == IMMUTABLE_CACHE_CONTROL


def test_invalid_immutable_regex_is_a_startup_error() -> None:
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        Config(immutable_file_test="(")


# -- manifest -----------------------------------------------------------------------------


def write_manifest(root: Path, paths: dict[str, str], files: dict | None = None) -> None:
    data = {"version": "1.1", "paths": paths, "hash": "x"}
    if files is not None:
        data["files"] = files
    (root / "staticfiles.json").write_text(json.dumps(data))


def test_manifest_hashed_names_are_immutable_whatever_their_shape(tmp_path: Path) -> None:
    write(tmp_path, "app.js")
    write(tmp_path, "app.v2.js")
    write_manifest(tmp_path, {"app.js": "app.v2.js"})
    index = index_of(tmp_path, immutable_file_test=None)
    assert cache_control(resource(index, "/static/app.v2.js")) == IMMUTABLE_CACHE_CONTROL
    assert cache_control(resource(index, "/static/app.js")) == "public, max-age=60"


def test_manifest_integrity_gives_machine_independent_etags(tmp_path: Path) -> None:
    write(tmp_path, "app.js", b"x" * 100)
    integrity = "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
    write_manifest(tmp_path, {}, {"app.js": {"size": 100, "integrity": integrity}})
    res = resource(index_of(tmp_path), "/static/app.js")
    assert res.identity.etag == '"OLBgp1GsljhM2TJ+sbHjaiH9txE"'


def test_manifest_etag_is_not_used_when_the_file_changed_size(tmp_path: Path) -> None:
    write(tmp_path, "app.js", b"x" * 101)
    write_manifest(tmp_path, {}, {"app.js": {"size": 100, "integrity": "sha384-AAAA"}})
    assert "AAAA" not in resource(index_of(tmp_path), "/static/app.js").identity.etag


def test_manifest_etag_is_not_used_for_a_file_modified_after_the_manifest(
    tmp_path: Path,
) -> None:
    # Same size, other bytes: only the mtime tells this file from the one described.
    path = write(tmp_path, "app.js", b"y" * 100)
    write_manifest(tmp_path, {}, {"app.js": {"size": 100, "integrity": "sha384-AAAA"}})
    os.utime(tmp_path / "staticfiles.json", (1_700_000_000, 1_700_000_000))
    os.utime(path, (1_700_000_100, 1_700_000_100))
    etag = resource(index_of(tmp_path), "/static/app.js").identity.etag
    assert "AAAA" not in etag and etag == content_etag(str(path))


def test_django_manifest_hash_in_the_name_is_the_etag(tmp_path: Path) -> None:
    write(tmp_path, "app.3f2a1b9c8d7e.js")
    write_manifest(tmp_path, {"app.js": "app.3f2a1b9c8d7e.js"})
    res = resource(index_of(tmp_path), "/static/app.3f2a1b9c8d7e.js")
    assert res.identity.etag == '"3f2a1b9c8d7e"'


@pytest.mark.parametrize("content", ["{not json", '{"version": "9"}', "[]"])
def test_bad_manifest_is_a_startup_error_naming_the_file(tmp_path: Path, content: str) -> None:
    (tmp_path / "staticfiles.json").write_text(content)
    with pytest.raises(ConfigError, match=r"staticfiles\.json"):
        index_of(tmp_path)


# -- index files -----------------------------------------------------------------------------


def test_index_file_is_served_at_the_directory_url(tmp_path: Path) -> None:
    write(tmp_path, "docs/index.html", b"<h1>docs</h1>")
    index = index_of(tmp_path, index_file=True)
    assert resource(index, "/static/docs/").identity.path.endswith("docs/index.html")


def test_directory_without_slash_redirects_relatively(tmp_path: Path) -> None:
    write(tmp_path, "docs/index.html")
    entry = index_of(tmp_path, index_file=True).lookup("/static/docs")
    assert isinstance(entry, Redirect) and entry.location == "docs/"


def test_root_index_file_is_served_at_the_prefix(tmp_path: Path) -> None:
    write(tmp_path, "index.html")
    assert resource(index_of(tmp_path, "/", index_file=True), "/").url == "/"


@pytest.mark.parametrize("autorefresh", [False, True])
def test_index_file_by_its_own_name_redirects_to_the_directory(
    tmp_path: Path, autorefresh: bool
) -> None:
    # One canonical URL per page, as WhiteNoise: /docs/index.html -> ./
    write(tmp_path, "docs/index.html")
    write(tmp_path, "index.html")
    index = index_of(tmp_path, index_file=True, autorefresh=autorefresh)
    for url in ("/static/docs/index.html", "/static/index.html"):
        entry = index.lookup(url)
        assert isinstance(entry, Redirect) and entry.location == "./", url


def test_autorefresh_redirects_a_directory_created_after_start(tmp_path: Path) -> None:
    index = index_of(tmp_path, index_file=True, autorefresh=True)
    assert index.lookup("/static/later") is None
    write(tmp_path, "later/index.html")
    entry = index.lookup("/static/later")
    assert isinstance(entry, Redirect) and entry.location == "later/"
    assert resource(index, "/static/later/").identity.path.endswith("later/index.html")


def test_autorefresh_stops_redirecting_a_removed_directory(tmp_path: Path) -> None:
    page = write(tmp_path, "gone/index.html")
    index = index_of(tmp_path, index_file=True, autorefresh=True)
    assert isinstance(index.lookup("/static/gone"), Redirect)
    page.unlink()
    page.parent.rmdir()
    assert index.lookup("/static/gone") is None
    assert index.lookup("/static/gone/index.html") is None


def test_no_directory_urls_without_index_file(tmp_path: Path) -> None:
    write(tmp_path, "docs/index.html")
    index = index_of(tmp_path)
    assert index.lookup("/static/docs/") is None and index.lookup("/static/docs") is None


# -- files changing on disk -----------------------------------------------------------------


def test_refresh_picks_up_a_changed_file(tmp_path: Path) -> None:
    path = write(tmp_path, "app.js", b"old")
    index = index_of(tmp_path)
    assert resource(index, "/static/app.js").identity.size == 3
    path.write_bytes(b"newer")
    assert index.lookup("/static/app.js").identity.size == 3  # type: ignore[union-attr]
    refreshed = index.refresh("/static/app.js")
    assert isinstance(refreshed, Resource) and refreshed.identity.size == 5


def test_refresh_of_a_deleted_file_drops_it(tmp_path: Path) -> None:
    path = write(tmp_path, "app.js")
    index = index_of(tmp_path)
    resource(index, "/static/app.js")
    path.unlink()
    assert index.refresh("/static/app.js") is None
    assert index.lookup("/static/app.js") is None


def test_file_deleted_before_first_request_is_a_miss(tmp_path: Path) -> None:
    path = write(tmp_path, "app.js")
    index = index_of(tmp_path)
    path.unlink()
    assert index.lookup("/static/app.js") is None


def test_an_in_place_same_size_edit_with_the_mtime_put_back_no_longer_matches_disk(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "app.js", b"old bytes")
    variant = resource(index_of(tmp_path), "/static/app.js").identity
    assert variant.matches_disk()
    edit_keeping_size_and_mtime(path, b"new bytes")
    assert not variant.matches_disk()


def test_a_file_replaced_by_rename_with_the_same_size_and_mtime_no_longer_matches_disk(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "app.js", b"old bytes")
    variant = resource(index_of(tmp_path), "/static/app.js").identity
    replace_keeping_size_and_mtime(path, b"new bytes")
    assert not variant.matches_disk()


def test_a_same_size_edit_of_a_sibling_no_longer_matches_disk(tmp_path: Path) -> None:
    write(tmp_path, "app.js", b"x" * 100)
    sibling = write(tmp_path, "app.js.gz", b"gzipped!")
    (gz,) = resource(index_of(tmp_path), "/static/app.js").encoded
    edit_keeping_size_and_mtime(sibling, b"GZIPPED!")
    assert not gz.matches_disk()


def test_an_unchanged_file_keeps_matching_disk(tmp_path: Path) -> None:
    path = write(tmp_path, "app.js", b"bytes")
    variant = resource(index_of(tmp_path), "/static/app.js").identity
    path.read_bytes()  # reading changes neither ctime nor inode
    assert variant.matches_disk() and variant.matches_disk()


def test_a_served_file_edited_in_place_with_the_mtime_put_back_is_served_anew(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "app.js", b"old bytes")
    files = StaticFiles(tmp_path, "/static/", recheck_interval=0)
    old = files.plan("/static/app.js", "GET", {})
    assert old is not None and old.body == b"old bytes"
    edit_keeping_size_and_mtime(path, b"new bytes")
    new = files.plan("/static/app.js", "GET", {})
    assert new is not None and new.body == b"new bytes"
    assert dict(new.headers)[b"etag"] != dict(old.headers)[b"etag"]


def test_autorefresh_finds_new_files(tmp_path: Path) -> None:
    index = index_of(tmp_path, autorefresh=True)
    write(tmp_path, "new/app.js", b"fresh")
    assert resource(index, "/static/new/app.js").identity.size == 5


def test_autorefresh_sees_edits(tmp_path: Path) -> None:
    path = write(tmp_path, "app.js", b"one")
    index = index_of(tmp_path, autorefresh=True)
    assert resource(index, "/static/app.js").identity.size == 3
    path.write_bytes(b"three")
    os.utime(path, ns=(1, 1))
    assert resource(index, "/static/app.js").identity.size == 5


def test_autorefresh_forgets_deleted_files(tmp_path: Path) -> None:
    path = write(tmp_path, "app.js")
    index = index_of(tmp_path, autorefresh=True)
    resource(index, "/static/app.js")
    path.unlink()
    assert index.lookup("/static/app.js") is None


@pytest.mark.parametrize(
    "url",
    ["/static/../secret.txt", "/static/./app.js", "/static/.env", "/static//app.js",
     "/static/a\\..\\secret.txt", "/static/app.js\x00", "/static/app.js.br"],
)  # fmt: skip
def test_autorefresh_vets_request_paths_like_the_scan(tmp_path: Path, url: str) -> None:
    root = tmp_path / "root"
    write(root, "app.js", b"a" * 100)
    write(root, "app.js.br", b"b")
    write(root, ".env")
    write(tmp_path, "secret.txt")
    assert index_of(root, autorefresh=True).lookup(url) is None


# -- memory ---------------------------------------------------------------------------------


def test_small_files_are_held_in_memory(tmp_path: Path) -> None:
    write(tmp_path, "small.css", b"s" * 10)
    res = resource(index_of(tmp_path), "/static/small.css")
    assert res.identity.body == b"s" * 10 and res.identity.plan_get.body == b"s" * 10


def test_files_over_the_threshold_are_not_held_in_memory(tmp_path: Path) -> None:
    write(tmp_path, "big.bin", b"b" * 2048)
    res = resource(index_of(tmp_path, memory_file_max=1024), "/static/big.bin")
    assert res.identity.body is None


def test_memory_budget_caps_the_total(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path, f"f{i}.css", b"x" * 100)
    index = index_of(tmp_path, memory_budget=250)
    built = [resource(index, f"/static/f{i}.css") for i in range(5)]
    assert [r.identity.body is not None for r in built].count(True) == 2
    assert index._memory.used == 200


def test_memory_budget_drops_the_least_recently_used_bytes(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path, f"f{i}.css", bytes([65 + i]) * 100)
    index = index_of(tmp_path, memory_budget=250)
    built = [resource(index, f"/static/f{i}.css") for i in range(5)]
    assert [r.identity.body is not None for r in built] == [False, False, False, True, True]


def test_a_dropped_file_is_served_from_disk_with_the_same_headers(tmp_path: Path) -> None:
    write(tmp_path, "a.css", b"a" * 100)
    write(tmp_path, "b.css", b"b" * 100)
    index = index_of(tmp_path, memory_budget=150)
    first = resource(index, "/static/a.css")
    held_headers = first.identity.plan_get.headers
    resource(index, "/static/b.css")
    plan = first.identity.plan_get
    assert first.identity.body is None and isinstance(plan.body, FileSlice)
    assert plan.headers == held_headers and plan.body.length == 100


def test_a_touched_file_keeps_its_bytes_and_the_oldest_go(tmp_path: Path) -> None:
    for name in "abc":
        write(tmp_path, f"{name}.css", name.encode() * 100)
    index = index_of(tmp_path, memory_budget=250)
    a = resource(index, "/static/a.css")
    b = resource(index, "/static/b.css")
    index.touch("/static/a.css", a)  # a used again: b is now the least recent
    resource(index, "/static/c.css")
    assert a.identity.body == b"a" * 100 and b.identity.body is None


def test_a_touched_file_whose_bytes_were_dropped_is_loaded_again(tmp_path: Path) -> None:
    write(tmp_path, "a.css", b"a" * 100)
    write(tmp_path, "b.css", b"b" * 100)
    index = index_of(tmp_path, memory_budget=150)
    a = resource(index, "/static/a.css")
    b = resource(index, "/static/b.css")
    index.touch("/static/a.css", a)
    assert a.identity.body == b"a" * 100 and b.identity.body is None
    assert index._memory.used == 100


def test_a_refreshed_file_gives_its_old_bytes_back_to_the_budget(tmp_path: Path) -> None:
    path = write(tmp_path, "a.css", b"a" * 100)
    index = index_of(tmp_path, memory_budget=150)
    resource(index, "/static/a.css")
    path.write_bytes(b"A" * 120)
    fresh = index.refresh("/static/a.css")
    assert isinstance(fresh, Resource) and fresh.identity.body == b"A" * 120
    assert index._memory.used == 120


def test_built_resources_are_capped_least_recently_used_out(tmp_path: Path) -> None:
    for i in range(4):
        write(tmp_path, f"f{i}.css")
    index = index_of(tmp_path, cached_files_max=2)
    for i in range(3):
        resource(index, f"/static/f{i}.css")
    index.touch("/static/f1.css", index._entries["/static/f1.css"])  # type: ignore[arg-type]
    resource(index, "/static/f3.css")
    assert sorted(index._entries) == ["/static/f1.css", "/static/f3.css"]


def test_a_dropped_resource_is_rebuilt_when_asked_again(tmp_path: Path) -> None:
    write(tmp_path, "a.css", b"a" * 10)
    write(tmp_path, "b.css", b"b" * 10)
    index = index_of(tmp_path, cached_files_max=1)
    first = resource(index, "/static/a.css")
    resource(index, "/static/b.css")
    again = resource(index, "/static/a.css")
    assert again is not first and again.identity.body == b"a" * 10
    assert again.identity.etag == first.identity.etag


def test_a_dropped_resource_gives_its_bytes_back_to_the_budget(tmp_path: Path) -> None:
    write(tmp_path, "a.css", b"a" * 100)
    write(tmp_path, "b.css", b"b" * 50)
    index = index_of(tmp_path, cached_files_max=1)
    resource(index, "/static/a.css")
    resource(index, "/static/b.css")
    assert index._memory.used == 50 and index.cached_count == 1


def test_resources_share_their_common_header_values(tmp_path: Path) -> None:
    for name in ("a.css", "b.css"):
        os.utime(write(tmp_path, name), (1_700_000_000, 1_700_000_000))
    index = index_of(tmp_path)
    a = dict(resource(index, "/static/a.css").identity.plan_get.headers)
    b = dict(resource(index, "/static/b.css").identity.plan_get.headers)
    for name in (b"content-type", b"cache-control", b"last-modified"):
        assert a[name] is b[name]


def test_indexing_does_not_read_files(tmp_path: Path) -> None:
    write(tmp_path, "app.css")
    index = index_of(tmp_path)
    assert index._entries == {}  # built lazily, on first request
