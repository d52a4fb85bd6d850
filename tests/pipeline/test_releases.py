"""Builds over an existing root keep N releases' hashed files and prune older ones."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

from staticserve import Resource, StaticIndex
from staticserve.pipeline.hashing import hashed_name
from staticserve.pipeline.manifest import read_manifest
from staticserve.pipeline.releases import History, history_from, plan_release, prune

from ..support.servers import REPO, running_server
from .conftest import tree, write
from .test_cli import run

MANIFEST = "staticfiles.json"


def release_sources(src: Path, n: int) -> None:
    """Sources of release ``n``: app.js and site.css change each time, the logo never."""
    write(src, "js/app.js", f"console.log('release {n}');\n" * 60)
    write(src, "css/site.css", f"/* r{n} */ h1 {{ background: url(../img/logo.svg) }}\n" * 30)
    write(src, "img/logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 400 + "</svg>")


def build(src: Path, root: Path, *extra: str) -> dict:
    code, _out, err = run("build", str(src), "--out", str(root), "-q", *extra)
    assert code == 0, err
    return json.loads((root / MANIFEST).read_text())


def build_releases(src: Path, root: Path, count: int, *extra: str) -> list[dict]:
    manifests = []
    for n in range(1, count + 1):
        release_sources(src, n)
        manifests.append(build(src, root, *extra))
    return manifests


def changed_hashed(manifest: dict) -> list[str]:
    return [manifest["paths"]["js/app.js"], manifest["paths"]["css/site.css"]]


def served(root: Path, name: str) -> tuple[bytes, bool] | None:
    """Body and immutability of /static/<name> in the real StaticIndex (None: not served)."""
    index = StaticIndex()
    index.add_root(root, "/static/")
    entry = index.lookup("/static/" + name)
    if not isinstance(entry, Resource):
        return None
    return Path(entry.identity.path).read_bytes(), entry.immutable


def test_build_4_over_releases_1_to_3_keeps_2_to_4_and_prunes_1(src: Path, root: Path) -> None:
    write(root, "robots.txt", "User-agent: *\n")  # the user's own files in the root
    write(root, "legacy/old.0123456789ab.js", "// put here by hand\n")
    r1, r2, r3, r4 = build_releases(src, root, 4)
    for manifest in (r2, r3, r4):
        for name in changed_hashed(manifest):
            assert (root / name).is_file(), name
            assert (root / f"{name}.gz").is_file(), name
    for name in changed_hashed(r1):
        assert not (root / name).exists(), name
        assert not any(root.glob(f"{name}.*")), name
    assert (root / r1["paths"]["img/logo.svg"]).is_file()  # unchanged: in every release
    assert (root / "robots.txt").read_text() == "User-agent: *\n"
    assert (root / "legacy/old.0123456789ab.js").read_text() == "// put here by hand\n"


def test_kept_releases_are_served_immutable_and_the_pruned_one_is_not(
    src: Path, root: Path
) -> None:
    manifests = build_releases(src, root, 4)
    with running_server(
        "uvicorn", "tests.integration.apps:asgi_app", env={"STATICSERVE_TEST_ROOT": str(root)}
    ) as server:
        for manifest in manifests[1:]:
            for name in changed_hashed(manifest):
                with urllib.request.urlopen(f"{server.url}/static/{name}") as resp:
                    body = resp.read()
                    assert "immutable" in resp.headers["Cache-Control"], name
                assert hashlib.md5(body).hexdigest()[:12] in name
        for name in changed_hashed(manifests[0]):
            # Not a static file any more: the request falls through to the wrapped app.
            with urllib.request.urlopen(f"{server.url}/static/{name}") as resp:
                assert resp.read() == f"app: GET /static/{name}".encode()
        with urllib.request.urlopen(f"{server.url}/static/js/app.js") as resp:
            assert b"release 4" in resp.read()  # unhashed names are the current release


def test_manifest_records_the_releases_and_the_release_of_each_hashed_file(
    src: Path, root: Path
) -> None:
    r1, r2, r3 = build_releases(src, root, 3)
    assert r3["releases"] == [r3["hash"], r2["hash"], r1["hash"]]
    files = r3["files"]
    assert files[r1["paths"]["js/app.js"]]["release"] == r1["hash"]
    assert files[r2["paths"]["js/app.js"]]["release"] == r2["hash"]
    assert files[r3["paths"]["js/app.js"]]["release"] == r3["hash"]
    assert files[r3["paths"]["img/logo.svg"]]["release"] == r3["hash"]  # newest user wins
    assert "release" not in files["js/app.js"]  # originals belong to no release
    old = r1["paths"]["js/app.js"]
    assert files[old]["size"] == (root / old).stat().st_size


def test_kept_files_of_earlier_releases_are_immutable_for_the_index(src: Path, root: Path) -> None:
    r1, _r2 = build_releases(src, root, 2)
    found = served(root, r1["paths"]["js/app.js"])
    assert found is not None
    body, immutable = found
    assert b"release 1" in body and immutable


def test_keep_1_keeps_only_this_release(src: Path, root: Path) -> None:
    r1, r2 = build_releases(src, root, 2, "--keep", "1")
    assert r2["releases"] == [r2["hash"]]
    assert not any((root / n).exists() for n in changed_hashed(r1))
    assert all((root / n).exists() for n in changed_hashed(r2))


def test_keep_must_be_a_positive_number(src: Path, root: Path) -> None:
    release_sources(src, 1)
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit):
            run("build", str(src), "--out", str(root), "--keep", bad)


def test_rebuilding_the_same_sources_is_the_same_release(src: Path, root: Path) -> None:
    release_sources(src, 1)
    first = (build(src, root), (root / MANIFEST).read_bytes())
    second = (build(src, root), (root / MANIFEST).read_bytes())
    assert first == second
    assert first[0]["releases"] == [first[0]["hash"]]


def test_going_back_to_an_earlier_release_makes_it_the_newest(src: Path, root: Path) -> None:
    r1, r2 = build_releases(src, root, 2)
    release_sources(src, 1)
    again = build(src, root)
    assert again["hash"] == r1["hash"]
    assert again["releases"] == [r1["hash"], r2["hash"]]


def test_a_clean_build_with_history_is_still_deterministic(src: Path, tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    build_releases(src, a, 3)
    build_releases(src, b, 3)
    assert tree(a) == tree(b)


def test_a_hashed_file_deleted_by_hand_is_dropped_from_the_manifest(src: Path, root: Path) -> None:
    r1, _ = build_releases(src, root, 2)
    gone = r1["paths"]["js/app.js"]
    os.unlink(root / gone)
    release_sources(src, 3)
    assert gone not in build(src, root)["files"]


def test_unreadable_previous_manifest_prunes_nothing_and_says_so(src: Path, root: Path) -> None:
    _r1, r2 = build_releases(src, root, 2, "--keep", "1")
    (root / MANIFEST).write_text("{not json")
    release_sources(src, 3)
    code, _out, err = run("build", str(src), "--out", str(root), "-q", "--keep", "1")
    assert code == 0
    assert "previous manifest unreadable" in err and "none pruned" in err
    assert all((root / n).exists() for n in changed_hashed(r2))


def test_a_manifest_without_history_counts_as_one_release(src: Path, root: Path) -> None:
    r1 = build_releases(src, root, 1)[0]
    legacy = {k: v for k, v in r1.items() if k not in ("releases", "files")}
    (root / MANIFEST).write_text(json.dumps(legacy))  # as Django writes it
    release_sources(src, 2)
    r2 = build(src, root, "--keep", "2")
    assert r2["releases"] == [r2["hash"], r1["hash"]]
    assert r2["files"][r1["paths"]["js/app.js"]]["release"] == r1["hash"]
    release_sources(src, 3)
    build(src, root, "--keep", "2")
    assert not (root / r1["paths"]["js/app.js"]).exists()


def test_the_manifest_stays_readable_by_read_manifest(src: Path, root: Path) -> None:
    manifests = build_releases(src, root, 2)
    parsed = read_manifest(root / MANIFEST)
    assert parsed.releases == manifests[1]["releases"]
    assert parsed.paths == manifests[1]["paths"]


# --- the pure parts ---------------------------------------------------------


def test_plan_never_prunes_a_name_this_release_serves() -> None:
    history = History(["old"], {"a.111111111111.js": "old", "b.js": "old"}, {})
    plan = plan_release(history, {"a.js": "a.111111111111.js", "b.js": "b.2.js"}, {}, keep=1)
    assert plan.prune == []


def test_names_outside_the_root_are_never_pruned(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = write(tmp_path, "victim.js", "keep me")
    data = {
        "version": "1.1",
        "paths": {},
        "releases": ["old"],
        "files": {"../victim.js": {"release": "old"}, "/etc/passwd": {"release": "old"}},
    }
    history = history_from(data)
    plan = plan_release(history, {"a.js": "a.1.js"}, {}, keep=1)
    assert prune(root, [*plan.prune, "../victim.js", ".hidden/x"]) == []
    assert outside.read_text() == "keep me"


def test_prune_removes_siblings_and_emptied_directories(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for suffix in ("", ".br", ".gz", ".zst"):
        write(root, f"old/deep/a.111111111111.js{suffix}", "x")
    write(root, "old/keep.txt", "user file")
    assert prune(root, ["old/deep/a.111111111111.js"]) == ["old/deep/a.111111111111.js"]
    assert not (root / "old/deep").exists()
    assert (root / "old/keep.txt").exists()


# --- an interrupted build -----------------------------------------------------

KILL_DURING_COMPRESSION = textwrap.dedent(
    """
    import os, signal, sys
    from staticserve.pipeline import compress, cli, hashing
    real, calls, hashed = compress.compress_bytes, [0], [False]
    real_hash = hashing.hash_and_rewrite
    def hash_then_mark(*args, **kwargs):
        result = real_hash(*args, **kwargs)
        hashed[0] = True
        return result
    def dying(data, encoding):
        # (Compression of the collected files starts while hashing runs.)
        calls[0] += hashed[0]
        if calls[0] == 3:  # half-way through the compression of the new release
            os.kill(os.getpid(), signal.SIGKILL)
        return real(data, encoding)
    hashing.hash_and_rewrite = hash_then_mark
    compress.compress_bytes = dying
    sys.exit(cli.main(["build", *sys.argv[1:]]))
    """
)


def test_a_build_killed_half_way_leaves_the_previous_release_fully_served(
    src: Path, root: Path
) -> None:
    build_releases(src, root, 2)
    before = (root / MANIFEST).read_bytes()
    previous = json.loads(before)
    release_sources(src, 3)
    write(src, "js/extra.js", "export const added = 3;\n" * 50)
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            KILL_DURING_COMPRESSION,
            str(src),
            "--out",
            str(root),
            "-q",
            "--workers",
            "1",
            "--keep",
            "1",  # so pruning too early would delete release 2's files
        ],
        cwd=REPO,
        capture_output=True,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (root / MANIFEST).read_bytes() == before  # the switch never happened
    new_app = hashed_name("js/app.js", (src / "js/app.js").read_bytes())
    assert (root / new_app).is_file()  # it died half-way: new files written, not switched
    hashed = {n: e for n, e in previous["files"].items() if "release" in e}
    assert len(hashed) >= 5
    with running_server(
        "uvicorn", "tests.integration.apps:asgi_app", env={"STATICSERVE_TEST_ROOT": str(root)}
    ) as server:
        for name, entry in sorted(hashed.items()):
            with urllib.request.urlopen(f"{server.url}/static/{name}") as resp:
                body = resp.read()
                assert resp.status == 200
                assert int(resp.headers["Content-Length"]) == entry["size"] == len(body)
            digest = hashlib.sha384(body).digest()
            assert entry["integrity"] == "sha384-" + base64.b64encode(digest).decode()
    # And the next, uninterrupted build finishes the job.
    after = build(src, root)
    assert after["releases"][1:] == previous["releases"][:2]
