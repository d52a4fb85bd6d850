"""collectstatic on a persistent STATIC_ROOT reuses the build cache: no recompression."""

from __future__ import annotations

import os
from pathlib import Path

from staticserve.pipeline.cache import CACHE_NAME

from .test_releases import COLLECT, django, release

SIBLINGS = (".br", ".gz", ".zst")


def siblings(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every compressed sibling: (inode, bytes). A recompressed file gets a new inode."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if f.endswith(SIBLINGS):
                path = Path(dirpath, f)
                out[str(path.relative_to(root))] = (path.stat().st_ino, path.read_bytes())
    return out


def collect(tmp: Path) -> Path:
    root = tmp / "static"
    django(tmp, root, tmp / "src", COLLECT)
    return root


def test_collectstatic_with_nothing_changed_recompresses_nothing(tmp_path: Path) -> None:
    release(tmp_path / "src", 1)
    root = collect(tmp_path)
    before = siblings(root)
    assert len(before) >= 6 and (root / CACHE_NAME).is_file()
    collect(tmp_path)
    assert siblings(root) == before


def test_collectstatic_recompresses_only_what_changed(tmp_path: Path) -> None:
    release(tmp_path / "src", 1)
    root = collect(tmp_path)
    before = siblings(root)
    release(tmp_path / "src", 2)  # app.js and site.css change, the logo does not
    collect(tmp_path)
    after = siblings(root)
    redone = {n for n, (ino, _) in after.items() if before.get(n, (None,))[0] != ino}
    assert redone and all("app." in n or "site." in n for n in redone), redone
    assert not any("logo" in n for n in redone)
    # Same bytes as a collectstatic without the cache (which compresses this
    # release's files only, not the kept ones of release 1).
    (root / CACHE_NAME).unlink()
    for name in list(after):
        os.unlink(root / name)
    collect(tmp_path)
    fresh = {n: b for n, (_, b) in siblings(root).items()}
    assert fresh.items() <= {n: b for n, (_, b) in after.items()}.items()
    assert "js/app.js.br" in fresh and "img/logo.svg.br" in fresh
