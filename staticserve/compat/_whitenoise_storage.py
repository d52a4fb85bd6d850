"""``whitenoise.storage``'s names on staticserve's storages (imports Django)."""

from __future__ import annotations

from ..django import storage


class CompressedStaticFilesStorage(storage.CompressedStaticFilesStorage):
    """``whitenoise.storage.CompressedStaticFilesStorage``: writes ``.br``/``.gz`` siblings.

    Reads ``WHITENOISE_SKIP_COMPRESS_EXTENSIONS`` when the ``STATICSERVE_`` one is absent.
    """


class CompressedManifestStaticFilesStorage(storage.CompressedManifestStaticFilesStorage):
    """``whitenoise.storage.CompressedManifestStaticFilesStorage``: hashed names + siblings.

    Reads ``WHITENOISE_MANIFEST_STRICT`` / ``WHITENOISE_KEEP_ONLY_HASHED_FILES`` when the
    ``STATICSERVE_`` ones are absent.
    """
