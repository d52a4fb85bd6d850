"""StaticIndex from a build manifest: start-up without walking the root.

A root whose ``staticfiles.json`` lists every file with its compressed siblings
(``staticserve build`` writes that) is indexed from the manifest alone; each
file is checked on disk when it is first served, so a manifest that went stale
after the build still gives correct answers.
"""

from __future__ import annotations

import builtins
import io
import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from staticserve import StaticServe
from staticserve.cli import main as cli_main
from staticserve.config import Config
from staticserve.index import StaticIndex
from staticserve.pipeline.manifest import write_manifest
from staticserve.resource import Resource, content_etag

FS_CALLS = ("stat", "lstat", "scandir", "listdir", "access", "open")


@contextmanager
def counting_fs_calls() -> Iterator[Counter[str]]:
    """Count the filesystem calls Python code makes (os.* and open) inside the block."""
    counts: Counter[str] = Counter()
    saved = {name: getattr(os, name) for name in FS_CALLS}
    saved_open = builtins.open

    def counted(name, real):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            counts[name] += 1
            return real(*args, **kwargs)

        return call

    for name, real in saved.items():
        setattr(os, name, counted(name, real))
    builtins.open = io.open = counted("open()", saved_open)  # type: ignore[assignment]
    try:
        yield counts
    finally:
        for name, real in saved.items():
            setattr(os, name, real)
        builtins.open = io.open = saved_open  # type: ignore[assignment]


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def built_root(root: Path, count: int) -> Path:
    """``count`` files in nested directories, a third with .br/.gz siblings, and the manifest."""
    for i in range(count):
        rel = f"app{i % 7}/static/d{i % 13}/f{i}.css"
        body = f"/* file {i} */ ".encode() * 20
        write(root, rel, body)
        if i % 3 == 0:
            write(root, rel + ".gz", body[:50])
            write(root, rel + ".br", body[:40])
    write_manifest(root, {})
    return root


def index_of(root: Path, **options: object) -> StaticIndex:
    index = StaticIndex(Config(**options))  # type: ignore[arg-type]
    index.add_root(root, "/static/")
    return index


def resource(index: StaticIndex, url: str) -> Resource:
    entry = index.lookup(url)
    assert isinstance(entry, Resource), f"{url} -> {entry!r}"
    return entry


def startup_calls(root: Path) -> Counter[str]:
    with counting_fs_calls() as counts:
        StaticServe(None, root=root, prefix="/static/")
    return counts


def test_start_up_from_a_manifest_makes_the_same_filesystem_calls_for_1k_and_10k_files(
    tmp_path: Path,
) -> None:
    small = startup_calls(built_root(tmp_path / "a", 1_000))
    large = startup_calls(built_root(tmp_path / "b", 10_000))
    assert small == large
    assert sum(large.values()) < 50 and large["scandir"] == 0


def test_start_up_without_a_sibling_listing_walks_the_root(tmp_path: Path) -> None:
    root = built_root(tmp_path, 100)
    manifest = root / "staticfiles.json"
    data = json.loads(manifest.read_bytes())
    for entry in data["files"].values():
        del entry["encodings"]  # as an older build, or Django's storage, writes it
    manifest.write_text(json.dumps(data))
    calls = startup_calls(root)
    assert calls["scandir"] > 0 and calls["access"] >= 100


def test_a_manifest_root_serves_every_listed_file_with_its_siblings(tmp_path: Path) -> None:
    root = built_root(tmp_path, 30)
    index = index_of(root)
    assert len(index) == 30
    res = resource(index, "/static/app0/static/d0/f0.css")
    assert [v.encoding for v in res.variants] == ["br", "gzip", "identity"]
    assert res.identity.body == root.joinpath("app0/static/d0/f0.css").read_bytes()


def test_a_manifest_root_gives_the_same_answers_as_a_walk(tmp_path: Path) -> None:
    root = built_root(tmp_path, 30)
    listed = index_of(root)
    manifest = root / "staticfiles.json"
    written = manifest.stat().st_mtime_ns
    data = json.loads(manifest.read_bytes())
    for entry in data["files"].values():
        del entry["encodings"]
    manifest.write_text(json.dumps(data))
    os.utime(manifest, ns=(written, written))
    walked = index_of(root)
    assert not walked.roots[0].listed and listed.roots[0].listed
    assert listed.urls() == walked.urls()
    for url in listed.urls():
        a, b = resource(listed, url), resource(walked, url)
        assert a.identity.plan_get.headers == b.identity.plan_get.headers
        assert [v.encoding for v in a.variants] == [v.encoding for v in b.variants]


def test_manifest_etags_are_used_from_a_manifest_root(tmp_path: Path) -> None:
    root = built_root(tmp_path, 3)
    integrity = json.loads((root / "staticfiles.json").read_bytes())["files"]
    res = resource(index_of(root), "/static/app1/static/d1/f1.css")
    assert res.identity.etag[1:-1] == integrity["app1/static/d1/f1.css"]["integrity"][7:34]


# -- a stale manifest ------------------------------------------------------------


def test_a_file_deleted_after_the_build_is_a_miss(tmp_path: Path) -> None:
    root = built_root(tmp_path, 3)
    (root / "app1/static/d1/f1.css").unlink()
    assert index_of(root).lookup("/static/app1/static/d1/f1.css") is None


def test_a_file_grown_after_the_build_is_served_new_whole_and_uncompressed(
    tmp_path: Path,
) -> None:
    root = built_root(tmp_path, 3)
    new = b"body { color: red }" * 50
    (root / "app0/static/d0/f0.css").write_bytes(new)  # its .br/.gz are now of old bytes
    res = resource(index_of(root), "/static/app0/static/d0/f0.css")
    assert res.variants == (res.identity,)
    assert res.identity.body == new
    assert dict(res.identity.plan_get.headers)[b"content-length"] == str(len(new)).encode()
    assert res.identity.etag == content_etag(str(root / "app0/static/d0/f0.css"))


def test_a_file_replaced_with_same_size_after_the_build_gets_a_new_etag_and_no_siblings(
    tmp_path: Path,
) -> None:
    root = built_root(tmp_path, 3)
    path = root / "app0/static/d0/f0.css"
    old = path.read_bytes()
    new = bytes(reversed(old))
    manifest_time = (root / "staticfiles.json").stat().st_mtime_ns
    path.write_bytes(new)
    os.utime(path, ns=(manifest_time + 10**9, manifest_time + 10**9))  # later than the build
    index = index_of(root)
    res = resource(index, "/static/app0/static/d0/f0.css")
    built_etag = resource(index, "/static/app1/static/d1/f1.css").identity.etag
    assert res.identity.body == new and res.variants == (res.identity,)
    assert res.identity.etag == content_etag(str(path)) != built_etag


def test_a_sibling_rewritten_after_the_build_is_not_used(tmp_path: Path) -> None:
    root = built_root(tmp_path, 3)
    sibling = root / "app0/static/d0/f0.css.br"
    manifest_time = (root / "staticfiles.json").stat().st_mtime_ns
    sibling.write_bytes(b"not the brotli of f0")
    os.utime(sibling, ns=(manifest_time + 10**9, manifest_time + 10**9))
    res = resource(index_of(root), "/static/app0/static/d0/f0.css")
    assert [v.encoding for v in res.variants] == ["gzip", "identity"]


def test_a_file_added_after_the_build_is_not_served_until_the_next_build(
    tmp_path: Path,
) -> None:
    root = built_root(tmp_path, 3)
    write(root, "late.css", b"late")
    assert index_of(root).lookup("/static/late.css") is None
    assert index_of(root, manifest=False).lookup("/static/late.css") is not None


def test_a_listed_file_turned_into_a_symlink_out_of_the_root_is_a_miss(tmp_path: Path) -> None:
    root = built_root(tmp_path / "root", 3)
    secret = write(tmp_path, "secret.css", b"secret")
    path = root / "app1/static/d1/f1.css"
    path.unlink()
    path.symlink_to(secret)
    assert index_of(root).lookup("/static/app1/static/d1/f1.css") is None


def test_a_listed_directory_turned_into_a_symlink_out_of_the_root_is_a_miss(
    tmp_path: Path,
) -> None:
    root = built_root(tmp_path / "root", 3)
    outside = tmp_path / "outside"
    write(outside, "d1/f1.css", b"secret")
    directory = root / "app1/static"
    for path in sorted(directory.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    directory.rmdir()
    directory.symlink_to(outside)
    assert index_of(root).lookup("/static/app1/static/d1/f1.css") is None


def test_a_sibling_symlink_out_of_the_root_is_not_used(tmp_path: Path) -> None:
    root = built_root(tmp_path / "root", 3)
    secret = write(tmp_path, "secret.br", b"s")
    sibling = root / "app0/static/d0/f0.css.br"
    sibling.unlink()
    sibling.symlink_to(secret)
    res = resource(index_of(root), "/static/app0/static/d0/f0.css")
    assert [v.encoding for v in res.variants] == ["gzip", "identity"]


@pytest.mark.parametrize(
    "name",
    ["../outside.css", "/etc/passwd", "a/../../x.css", ".env", "a//b.css", "staticfiles.json"],
)
def test_a_manifest_naming_a_file_outside_or_hidden_is_not_trusted_for_it(
    tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    root = built_root(tmp_path / "root", 2)
    write(tmp_path, "outside.css", b"outside")
    manifest = root / "staticfiles.json"
    data = json.loads(manifest.read_bytes())
    data["files"][name] = {"size": 7, "integrity": "sha384-AAAA", "encodings": {}}
    manifest.write_text(json.dumps(data))
    with caplog.at_level(logging.WARNING, logger="staticserve"):
        index = index_of(root)
    assert not any(name.lstrip("/") in url for url in index.urls())
    assert len(index) == 2 and name in caplog.text


def test_autorefresh_ignores_the_file_list_and_sees_new_files(tmp_path: Path) -> None:
    root = built_root(tmp_path, 3)
    write(root, "late.css", b"late")
    assert index_of(root, autorefresh=True).lookup("/static/late.css") is not None


def test_staticserve_build_writes_a_manifest_the_index_starts_from(tmp_path: Path) -> None:
    src = tmp_path / "src"
    write(src, "css/site.css", b"body { margin: 0 }\n" * 40)
    write(src, "img/logo.svg", b"<svg/>")
    out = tmp_path / "out"
    assert cli_main(["build", str(src), "--out", str(out), "--quiet"]) == 0
    calls = startup_calls(out)
    assert calls["scandir"] == 0
    index = index_of(out)
    assert "/static/css/site.css" in index.urls()
    assert any(
        u.startswith("/static/css/site.") and u != "/static/css/site.css" for u in index.urls()
    )


def test_include_dotfiles_serves_the_dotfiles_of_a_built_root(tmp_path: Path) -> None:
    # The manifest lists no dotfiles: with include_dotfiles the root is walked.
    src = tmp_path / "src"
    contact = b"Contact: mailto:security@example.com\n"
    write(src, ".well-known/security.txt", contact)
    write(src, "css/site.css", b"body { margin: 0 }\n")
    out = tmp_path / "out"
    assert cli_main(["build", str(src), "--out", str(out), "-q", "--no-default-ignore"]) == 0
    assert (out / ".well-known" / "security.txt").is_file()
    assert index_of(out).lookup("/static/.well-known/security.txt") is None
    served = index_of(out, include_dotfiles=True)
    assert resource(served, "/static/.well-known/security.txt").identity.size == len(contact)
    assert served.lookup("/static/staticfiles.json") is None  # never, dotfiles or not
