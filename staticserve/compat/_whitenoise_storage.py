"""``whitenoise.storage``'s names on staticserve's storages (imports Django)."""

from __future__ import annotations

import os
import re

from ..django import storage

_NOT_FOUND = re.compile(r"^The file '(.+)' could not be found")


class MissingFileError(ValueError):
    """As WhiteNoise's: a hashed-name pass met a reference to a file that does not exist."""


class CompressedStaticFilesStorage(storage.CompressedStaticFilesStorage):
    """``whitenoise.storage.CompressedStaticFilesStorage``: writes ``.br``/``.gz`` siblings.

    Reads ``WHITENOISE_SKIP_COMPRESS_EXTENSIONS`` when the ``STATICSERVE_`` one is absent.
    """


class CompressedManifestStaticFilesStorage(storage.CompressedManifestStaticFilesStorage):
    """``whitenoise.storage.CompressedManifestStaticFilesStorage``: hashed names + siblings.

    Reads ``WHITENOISE_MANIFEST_STRICT`` / ``WHITENOISE_KEEP_ONLY_HASHED_FILES`` when the
    ``STATICSERVE_`` ones are absent. References to missing files stop
    collectstatic, as WhiteNoise's do, with one report naming all of them
    (``STATICSERVE_MISSING_REFERENCES = "warn"`` lets them through);
    ``make_helpful_exception`` is kept for code that calls it.
    """

    def make_helpful_exception(self, exception: Exception, name: str) -> Exception:
        """Django's "file could not be found" ValueError as a MissingFileError naming ``name``."""
        if isinstance(exception, ValueError) and exception.args:
            match = _NOT_FOUND.search(str(exception.args[0]))
            if match:
                kind = os.path.splitext(name)[1].lstrip(".").upper() or "static"
                return MissingFileError(
                    f"{exception.args[0]}\n\nThe {kind} file '{name}' references "
                    f"{match.group(1)!r}, which does not exist: check the URL (relative "
                    "paths especially) in that file."
                )
        return exception
