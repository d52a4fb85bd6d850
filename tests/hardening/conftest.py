"""A hostile-minded static tree: secrets outside the root, traps inside it.

``make_hostile_tree(base)`` writes::

    base/outside/secret.txt        SECRET (never to appear in any response)
    base/outside/dir/secret2.txt   SECRET
    base/root/css/site.css         (+ .br, .gz siblings)
    base/root/app.js, app.3f2a1b9c8d7e.js, staticfiles.json (MANIFEST marker)
    base/root/.env, .git/config    DOTFILE marker
    base/root/escape.txt    -> ../outside/secret.txt
    base/root/escdir        -> ../outside
    base/root/résumé.txt           (NFC name)
    base/root/big.bin              2 MiB, streamed from disk
"""

from __future__ import annotations

import gzip
import os
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import brotli

SECRET = b"TOP-SECRET-7f3a9c-never-serve-me"
DOTFILE = b"DOTFILE-MARKER-41b2"
MANIFEST = "MANIFEST-MARKER-c0ffee"
NFC_NAME = unicodedata.normalize("NFC", "résumé.txt")
CSS = "".join(f".r{i} {{ margin: {i % 13}px; }}\n" for i in range(400)).encode()
BIG = random.Random(7).randbytes(2 * 1024 * 1024)


@dataclass
class HostileTree:
    base: Path
    root: Path
    outside: Path
    files: dict[str, bytes] = field(default_factory=dict)  # servable URL rel → bytes

    @property
    def forbidden(self) -> tuple[bytes, ...]:
        """Byte strings that must never appear in any response."""
        return (SECRET, DOTFILE, MANIFEST.encode())


def make_hostile_tree(base: Path) -> HostileTree:
    root, outside = base / "root", base / "outside"
    (outside / "dir").mkdir(parents=True)
    (root / "css").mkdir(parents=True)
    (root / ".git").mkdir()
    (outside / "secret.txt").write_bytes(SECRET + b"\n")
    (outside / "dir" / "secret2.txt").write_bytes(SECRET + b" 2\n")
    tree = HostileTree(base, root, outside)

    def put(rel: str, data: bytes) -> None:
        (root / rel).write_bytes(data)
        tree.files[rel] = data

    put("css/site.css", CSS)
    (root / "css/site.css.br").write_bytes(brotli.compress(CSS))
    (root / "css/site.css.gz").write_bytes(gzip.compress(CSS, mtime=0))
    put("app.js", b"console.log('app');\n")
    put("app.3f2a1b9c8d7e.js", b"console.log('app');\n")
    put(NFC_NAME, "NFC name é\n".encode())
    put("big.bin", BIG)
    (root / "staticfiles.json").write_text(
        '{"version": "1.1", "paths": {"app.js": "app.3f2a1b9c8d7e.js"}, '
        f'"marker": "{MANIFEST}"}}'
    )
    (root / ".env").write_bytes(DOTFILE + b"\n")
    (root / ".git" / "config").write_bytes(DOTFILE + b" git\n")
    os.symlink("../outside/secret.txt", root / "escape.txt")
    os.symlink("../outside", root / "escdir")
    return tree
