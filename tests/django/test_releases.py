"""collectstatic on a persistent STATIC_ROOT keeps releases as `staticserve build` does.

Each collectstatic runs in its own process with a tiny settings module
written next to the sources, so the sources can change between runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from staticserve import Resource, StaticIndex
from tests.support.servers import REPO

SETTINGS = textwrap.dedent(
    """
    import os
    SECRET_KEY = "x"
    INSTALLED_APPS = ["staticserve.django", "django.contrib.staticfiles"]
    STATIC_URL = "static/"
    STATIC_ROOT = os.environ["T_STATIC_ROOT"]
    STATICFILES_DIRS = [os.environ["T_SOURCES"]]
    STORAGES = {"staticfiles": {
        "BACKEND": "staticserve.django.storage.CompressedManifestStaticFilesStorage"}}
    if "T_KEEP" in os.environ:
        STATICSERVE_KEEP_RELEASES = int(os.environ["T_KEEP"])
    """
)


def django(tmp: Path, root: Path, sources: Path, code: str, keep: int | None = None) -> str:
    (tmp / "rel_settings.py").write_text(SETTINGS)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rel_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp), str(REPO)]),
        "T_STATIC_ROOT": str(root),
        "T_SOURCES": str(sources),
    }
    if keep is not None:
        env["T_KEEP"] = str(keep)
    proc = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


COLLECT = (
    "from django.core.management import call_command\n"
    "call_command('collectstatic', '--noinput', verbosity=0)"
)


def release(sources: Path, n: int) -> None:
    files = {
        "js/app.js": f"console.log('release {n}');\n" * 60,
        "css/site.css": f"/* r{n} */ h1 {{ background: url(../img/logo.svg) }}\n" * 30,
        "img/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'>" + " " * 400 + "</svg>",
    }
    # collectstatic copies a file only if its mtime is newer than the copy (to the
    # second): give each release's sources a clearly later one.
    stamp = time.time() + 100 * n
    for name, text in files.items():
        path = sources / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            os.utime(path, (stamp, stamp))


def collect_releases(tmp: Path, count: int, keep: int | None = None) -> tuple[Path, list[dict]]:
    sources, root = tmp / "src", tmp / "static"
    root.mkdir(exist_ok=True)
    manifests = []
    for n in range(1, count + 1):
        release(sources, n)
        django(tmp, root, sources, COLLECT, keep)
        manifests.append(json.loads((root / "staticfiles.json").read_text()))
    return root, manifests


def changed(manifest: dict) -> list[str]:
    return [manifest["paths"]["js/app.js"], manifest["paths"]["css/site.css"]]


def test_collectstatic_4_over_3_releases_keeps_2_to_4_and_prunes_1(tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "robots.txt").write_text("User-agent: *\n")
    root, (r1, r2, r3, r4) = collect_releases(tmp_path, 4)
    assert r4["releases"] == [r4["hash"], r3["hash"], r2["hash"]]
    index = StaticIndex()
    index.add_root(root, "/static/")
    for manifest in (r2, r3, r4):
        for name in changed(manifest):
            entry = index.lookup("/static/" + name)
            assert isinstance(entry, Resource) and entry.immutable, name
            assert (root / f"{name}.gz").exists()
    for name in changed(r1):
        assert not (root / name).exists() and not (root / f"{name}.gz").exists()
        assert index.lookup("/static/" + name) is None
    assert (root / "robots.txt").read_text() == "User-agent: *\n"


def test_keep_releases_setting_is_honoured(tmp_path: Path) -> None:
    root, (r1, r2) = collect_releases(tmp_path, 2, keep=1)
    assert r2["releases"] == [r2["hash"]]
    assert not any((root / n).exists() for n in changed(r1))


def test_the_manifest_with_history_is_read_by_djangos_own_storage(tmp_path: Path) -> None:
    root, manifests = collect_releases(tmp_path, 2)
    url = django(
        tmp_path,
        root,
        tmp_path / "src",
        "from django.contrib.staticfiles.storage import ManifestStaticFilesStorage\n"
        "print(ManifestStaticFilesStorage().url('js/app.js'))",
    )
    assert url.strip() == "/static/" + manifests[1]["paths"]["js/app.js"]


def test_a_bad_keep_releases_setting_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    out = django(
        tmp_path,
        tmp_path / "static",
        tmp_path / "src",
        "from django.core.exceptions import ImproperlyConfigured\n"
        "from staticserve.django.storage import CompressedManifestStaticFilesStorage as S\n"
        "try:\n    S(keep_releases=0)\nexcept ImproperlyConfigured as exc:\n    print(exc)",
    )
    assert "STATICSERVE_KEEP_RELEASES = 0" in out and ">= 1" in out
