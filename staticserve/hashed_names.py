"""Does a file name carry a content hash? The default ``immutable_file_test``.

A file is cached for a year (``immutable``) when its name says its content
can never change under it. This module recognises the *default* hash formats
of the common tools, from the last path segment alone:

======================  =====================================  ============================
tool                    default name                           rule here
======================  =====================================  ============================
Django, staticserve     ``app.3f2a1b9c8d7e.css`` (12 hex)      ``.`` + 8-32 hex
webpack ``[contenthash]`` ``main.5e0e3a9f6b1c2d4e8f90.js``     ``.`` or ``-`` + 8-32 hex
CRA / Angular / Parcel  ``main.8c6ac6d4.chunk.js``             (same, ``.chunk`` allowed)
Next.js                 ``a1b2c3d4e5f60718.css``               the whole stem, 16-32 hex
Vite / Rollup           ``index-BvmkIFtm.js`` (8 base64url)    ``-`` + 8 base64url chars
esbuild                 ``chunk-5QOQ6UKT.js`` (8 base32)       (same rule)
======================  =====================================  ============================

False positives are the danger: a year-long cache of a file that *does*
change (a deploy then never reaches returning visitors). So every rule asks
for evidence of randomness, and a name that could be a word is not hashed:

* A hex token must hold a digit *and* a letter. All-digit tokens are dates,
  versions and timestamps (``report-20240101.css``); all-letter "hex" tokens
  are words (``deadbeef``, ``-accede``). Cost: 2 % of 8-hex hashes (those
  without a letter) are missed and fall back to ``max_age``, the safe side.
* An 8-character base64url token after ``-`` is where words live too:
  ``app-settings.js`` (8 lower-case letters), ``Home-Carousel.js``,
  ``grid-DataGrid.js``, ``bg-1280x720.jpg``, ``layout-2columns.css``,
  ``vacation-DSC01234.jpg``, ``ui-kit-v2.js``. The token is split on ``-``
  and ``_``; it is a hash unless *every* piece has the shape of a word:
  lower-case letters only, a Capitalised or camelCase word (humps of 3+
  letters), an ACRONYM, a number with up to 4 letters before it (``v12``,
  ``P1010123``), a dimension (``1280x720``), a number with a unit (``2x``,
  ``720p``, ``2columns``), or 1-2 characters (too short to be evidence). A
  run of 5+ letters with no vowel or 5 consonants in a row (``krrwcyx``,
  ``HCTQLTPQ``) is not an English word, so it does not count as one.
  Measured: no false positive among the 45,000 distinct file names of the
  fixtures' node_modules, the Python packages installed here and
  /usr/share; misses (they keep ``max_age``, the safe side): about 3 % of
  random Vite/Rollup hashes and 14 % of esbuild's (8 capitals with no digit
  read as an acronym), unless a bundler manifest (:mod:`staticserve.manifests`)
  names them.
* Only web files (``WEB_EXTENSIONS``: scripts, styles, images, fonts, media,
  source maps) are bundler output; other names (``AIX-IBMClang.cmake``) are
  never taken for hashed.
* HTML files are never hashed: they are the entry points that *reference*
  hashed files and must be revalidated on every visit.

The table of real hashed and not-hashed names these rules are held to is
``tests/bundlers/test_hashed_names.py``. ``immutable_file_test`` (a regex or a
function) replaces this test entirely when a user sets it.
"""

from __future__ import annotations

import re

__all__ = ["is_hashed_name", "is_hashed_url"]

# The extension after the hash: one segment, optionally ".map" (source maps)
# or CRA's ".chunk" before it.
_EXT = r"(?:\.chunk)?\.[A-Za-z0-9]+(?:\.map)?$"
_HEX_TOKEN = re.compile(r"[.-]([0-9a-f]{8,32})" + _EXT)
_HEX_STEM = re.compile(r"^([0-9a-f]{16,32})" + _EXT)
_B64_TOKEN = re.compile(r"-([A-Za-z0-9_-]{8})\.[A-Za-z0-9]+(?:\.map)?$")

_WORD = r"(?:[a-z]{2,}|[A-Z][a-z]{2,})(?:[A-Z][a-z]{2,})*"
_WORD_PIECE = re.compile(
    rf"""
      {_WORD}\d{{0,4}}              # word, Capitalised, camelCase (+ number)
    | [A-Z]{{2,}}\d*               # ACRONYM (+ number): DSC01234
    | [A-Za-z]{{0,4}}\d+            # number, version, camera file: 2024, v12, P1010123
    | \d+[xX]\d+                   # dimension
    | \d{{1,4}}[a-z]{{1,3}}           # 2x, 3d, 720p, 10px
    | \d{{1,4}}{_WORD}              # 2columns, 3dModels
    | [a-z]{{2,}}\d{{1,2}}[a-z]{{1,5}}  # slf4j, txt2tags
    """,
    re.VERBOSE,
)
_LETTER_RUN = re.compile(r"[A-Za-z]{5,}")
_CONSONANTS_5 = re.compile(r"[b-df-hj-np-tv-xz]{5}")
_VOWELS = frozenset("aeiouy")
# What bundlers emit. Other files (.conf, .xml, .jar, ...) are not bundler
# output, and their names are full of hyphenated words and acronyms.
WEB_EXTENSIONS = frozenset(
    [
        ".js",
        ".mjs",
        ".cjs",
        ".css",
        ".map",
        ".json",
        ".wasm",
        ".svg",
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".ico",
        ".bmp",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp4",
        ".webm",
        ".ogg",
        ".mp3",
        ".wav",
        ".m4a",
        ".txt",
    ]
)


def _pronounceable(run: str) -> bool:
    run = run.lower()
    return bool(_VOWELS.intersection(run)) and not _CONSONANTS_5.search(run)


def _is_word_piece(piece: str) -> bool:
    if len(piece) <= 2 or (piece.isalpha() and piece.islower()):
        # Too short to be evidence ("C", "UX", "Z1", "v2"), or lower-case letters
        # only ("settings", "rrggbbaa"): 0.07 % of random tokens, most real words.
        return True
    if not _WORD_PIECE.fullmatch(piece):
        return False
    # "krrwcyx", "HCTQLTPQ" have a word's shape but no English spelling.
    return all(_pronounceable(run) for run in _LETTER_RUN.findall(piece))


def _is_random_b64(token: str) -> bool:
    pieces = [p for p in re.split(r"[-_]", token) if p]
    return not all(_is_word_piece(p) for p in pieces)


def _is_random_hex(token: str) -> bool:
    return any(c.isdigit() for c in token) and any(c.isalpha() for c in token)


def is_hashed_name(name: str) -> bool:
    """True if the last segment of ``name`` carries a default bundler/Django hash."""
    base = name.rpartition("/")[2]
    ext = base[base.rfind(".") :].lower() if "." in base else ""
    if ext not in WEB_EXTENSIONS:
        return False  # HTML (an entry point, never hashed) and non-web files
    match = _HEX_TOKEN.search(base) or _HEX_STEM.search(base)
    if match and _is_random_hex(match.group(1)):
        return True
    match = _B64_TOKEN.search(base)
    return bool(match and _is_random_b64(match.group(1)))


def is_hashed_url(path: str, url: str) -> bool:
    """:func:`is_hashed_name` in the ``immutable_file_test(path, url)`` shape."""
    return is_hashed_name(url)
