"""staticfiles.json: Django's manifest 1.1 plus per-file size, integrity and type."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from staticserve.pipeline._files import BuildError
from staticserve.pipeline.hashing import hash_and_rewrite
from staticserve.pipeline.manifest import (
    manifest_hash,
    read_manifest,
    served_names,
    write_manifest,
)

from .conftest import temp_leftovers, write


def test_manifest_hash_is_computed_as_django_computes_it() -> None:
    paths = {"b.css": "b.123456789012.css", "a.js": "a.abcdefabcdef.js"}
    expected = hashlib.md5(json.dumps(sorted(paths.items())).encode()).hexdigest()[:12]
    assert manifest_hash(paths) == expected


def test_manifest_has_paths_version_hash_and_files(root: Path) -> None:
    write(root, "a.css", "p{}")
    result = hash_and_rewrite(root, ["a.css"])
    data = json.loads(write_manifest(root, result.paths).read_bytes())
    assert data["version"] == "1.1"
    assert data["paths"] == result.paths
    assert data["hash"] == manifest_hash(result.paths)
    assert sorted(data["files"]) == sorted(["a.css", result.paths["a.css"]])


def test_file_entry_has_size_sri_integrity_and_content_type(root: Path) -> None:
    write(root, "a.css", "p{}")
    data = json.loads(write_manifest(root, {}).read_bytes())
    digest = base64.b64encode(hashlib.sha384(b"p{}").digest()).decode()
    assert data["files"]["a.css"] == {
        "size": 3,
        "integrity": f"sha384-{digest}",
        "content_type": "text/css; charset=utf-8",
        "encodings": {},
    }


def test_files_leave_out_compressed_siblings_dotfiles_and_the_manifest(root: Path) -> None:
    for name in ["a.css", "a.css.br", "a.css.gz", "a.css.zst", ".env", "staticfiles.json"]:
        write(root, name)
    write(root, "lone.gz", b"\x1f\x8b")  # a real gzip asset, not a sibling
    assert served_names(root) == ["a.css", "lone.gz"]


def test_manifest_bytes_are_sorted_and_compact(root: Path) -> None:
    write(root, "b.js", "b")
    write(root, "a.js", "a")
    raw = write_manifest(root, {"b.js": "b.1.js", "a.js": "a.1.js"}).read_text()
    assert raw.startswith('{"files":{"a.js":')
    assert '"paths":{"a.js":"a.1.js","b.js":"b.1.js"}' in raw
    assert ", " not in raw and not raw.endswith("\n")


def test_non_ascii_names_are_escaped_so_the_manifest_is_ascii(root: Path) -> None:
    write(root, "café.css", "p{}")
    raw = write_manifest(root, {"café.css": "café.1.css"}).read_bytes()
    raw.decode("ascii")
    assert read_manifest(root / "staticfiles.json").paths == {"café.css": "café.1.css"}


def test_write_leaves_no_temporary_file(root: Path) -> None:
    write(root, "a.css")
    write_manifest(root, {})
    assert temp_leftovers(root) == []


def test_read_manifest_round_trips(root: Path) -> None:
    write(root, "a.css", "p{}")
    write_manifest(root, {"a.css": "a.1.css"})
    m = read_manifest(root / "staticfiles.json")
    assert (m.version, m.paths, m.hash) == ("1.1", {"a.css": "a.1.css"}, manifest_hash(m.paths))
    assert m.files["a.css"]["size"] == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not a valid JSON manifest"), ('{"version": "9"}', "unsupported manifest")],
)
def test_read_manifest_rejects_bad_files_naming_them(
    root: Path, content: str, message: str
) -> None:
    path = write(root, "staticfiles.json", content)
    with pytest.raises(BuildError, match=message) as info:
        read_manifest(path)
    assert str(path) in str(info.value)


DJANGO_READS = """
import json, sys
from django.conf import settings
settings.configure(STATIC_ROOT=sys.argv[1], STATIC_URL="/static/", DEBUG=False)
import django; django.setup()
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
s = ManifestStaticFilesStorage()
print(json.dumps({"paths": s.hashed_files, "hash": s.manifest_hash,
                  "url": s.url("css/a.css")}))
"""


def test_djangos_manifest_storage_reads_our_manifest(root: Path) -> None:
    write(root, "css/a.css", "p{}")
    result = hash_and_rewrite(root, ["css/a.css"])
    write_manifest(root, result.paths)
    out = subprocess.run(
        [sys.executable, "-c", DJANGO_READS, str(root)], capture_output=True, text=True, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["paths"] == result.paths
    assert seen["hash"] == manifest_hash(result.paths)
    assert seen["url"] == "/static/" + result.paths["css/a.css"]


DJANGO_BUILDS = """
import json, sys
from django.conf import settings
settings.configure(STATIC_ROOT=sys.argv[1], STATIC_URL="/static/", DEBUG=False,
                   STATICFILES_DIRS=[sys.argv[2]],
                   INSTALLED_APPS=["django.contrib.staticfiles"],
                   STORAGES={"staticfiles": {"BACKEND":
                       "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}})
import django; django.setup()
from django.core.management import call_command
call_command("collectstatic", interactive=False, verbosity=0)
print(open(sys.argv[1] + "/staticfiles.json").read())
"""


def test_names_equal_djangos_for_files_without_references(tmp_path: Path, root: Path) -> None:
    src = tmp_path / "src"
    for name, data in [("js/jquery.min.js", "x"), ("img/a b.png", b"\x89"), ("LICENSE", "MIT")]:
        write(src, name, data)
        write(root, name, data)
    ours = hash_and_rewrite(root, ["js/jquery.min.js", "img/a b.png", "LICENSE"])
    out = subprocess.run(
        [sys.executable, "-c", DJANGO_BUILDS, str(tmp_path / "django_root"), str(src)],
        capture_output=True,
        text=True,
        check=True,
    )
    django_manifest = json.loads(out.stdout)
    assert ours.paths == django_manifest["paths"]
    assert manifest_hash(ours.paths) == django_manifest["hash"]


def test_file_entry_lists_its_compressed_siblings_and_their_sizes(root: Path) -> None:
    write(root, "a.css", "p{}" * 100)
    write(root, "a.css.br", "b" * 7)
    write(root, "a.css.gz", "g" * 9)
    data = json.loads(write_manifest(root, {}).read_bytes())
    assert data["files"]["a.css"]["encodings"] == {"br": 7, "gzip": 9}
