"""WhiteNoise's names, signatures and defaults on staticserve's core: a one-line migration.

Change ``from whitenoise import WhiteNoise`` to
``from staticserve.compat.whitenoise import WhiteNoise`` (and the dotted paths
in Django's settings) and a site keeps working. Every class here only maps
WhiteNoise's arguments onto :class:`staticserve.Config` options and adapters;
no HTTP rule lives here. Where staticserve answers differently (1-year
immutable caching, ``no-cache`` for ``max_age=0``, ranges from the identity
file, ...), docs/migrating-from-whitenoise.md lists the difference and why.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ..config import AddHeaders, ImmutableTest
from ..service import StaticFiles
from ..wsgi import StaticServeWSGI, WSGIApp
from ._hooks import FOREVER, overridden, path_is_child_of, whitenoise_spelling

__all__ = [  # the Django classes are loaded lazily, by __getattr__ below
    "CompressedManifestStaticFilesStorage",  # noqa: F822
    "CompressedStaticFilesStorage",  # noqa: F822
    "MissingFileError",  # noqa: F822
    "WhiteNoise",
    "WhiteNoiseMiddleware",  # noqa: F822
]


class WhiteNoise(StaticServeWSGI):
    """``whitenoise.WhiteNoise``: WSGI middleware with WhiteNoise's signature and defaults.

    Files are served at ``prefix`` (default ``/``, as in WhiteNoise), every
    file gets ``Access-Control-Allow-Origin: *``, ``max_age`` defaults to 60 s
    and no file is immutable unless ``immutable_file_test`` (a regex searched in
    the URL path, or ``f(path, url)``, or a subclass's method of that name) says
    so, or a staticserve/Django manifest in the root names it as hashed.
    ``add_headers_function(headers, path, url)`` gets a ``Headers``-like object.
    Headers are spelled as WhiteNoise spells them (``max-age=60, public``,
    ``charset="utf-8"``), so tests comparing header strings keep passing.
    Further keyword arguments are staticserve options (``include_dotfiles=True``
    to serve ``.well-known/``, as WhiteNoise does).
    """

    FOREVER = FOREVER
    #: WhiteNoise's helper, for subclasses that call it; serving never needs it
    #: (a request is a lookup in the index of vetted files, not a path join).
    path_is_child_of = staticmethod(path_is_child_of)

    def __init__(
        self,
        application: WSGIApp | None,
        root: str | os.PathLike[str] | None = None,
        prefix: str | None = None,
        *,
        autorefresh: bool = False,
        max_age: int | None = 60,
        allow_all_origins: bool = True,
        charset: str = "utf-8",
        mimetypes: Mapping[str, str] | None = None,
        add_headers_function: AddHeaders | None = None,
        index_file: str | bool | None = None,
        immutable_file_test: ImmutableTest | str | None = None,
        **options: Any,
    ) -> None:
        if immutable_file_test is None:
            immutable_file_test = overridden(self, "immutable_file_test", WhiteNoise)
        files = StaticFiles(
            autorefresh=autorefresh,
            max_age=max_age,
            allow_all_origins=allow_all_origins,
            charset=charset,
            mimetypes=dict(mimetypes) if mimetypes else None,
            add_headers=whitenoise_spelling(add_headers_function, "add_headers_function"),
            index_file=index_file or False,
            immutable_file_test=immutable_file_test,
            **options,
        )
        super().__init__(application, files=files)
        self._roots: list[tuple[str, str]] = []  # newest first
        self.application = application
        self.autorefresh = autorefresh
        self.max_age = max_age
        self.allow_all_origins = allow_all_origins
        self.charset = charset
        self.add_headers_function = add_headers_function
        self.index_file = "index.html" if index_file is True else (index_file or None)
        if immutable_file_test is not None:
            # As WhiteNoise: the compiled test is also the instance's method.
            self.immutable_file_test = files.config.is_immutable  # type: ignore[method-assign]
        if root is not None:
            self.add_files(root, prefix)

    def add_files(self, root: str | os.PathLike[str], prefix: str | None = None) -> None:
        """Serve ``root`` under ``prefix`` (default ``/``); it wins over earlier roots.

        WhiteNoise lets a later ``add_files`` override an earlier one for a URL
        both provide; staticserve's index keeps the first root that has it, so
        the roots are indexed again, newest first (indexing reads no file).
        """
        entry = (os.fspath(root), "/" if prefix is None else prefix)
        files = StaticFiles(config=self.files.config)
        for each_root, each_prefix in (entry, *self._roots):
            files.add_files(each_root, each_prefix)
        self._roots.insert(0, entry)
        self.files = files
        self._set_prefixes()

    def immutable_file_test(self, path: str, url: str) -> bool:
        """WhiteNoise's subclass hook: override to mark files immutable (default: none)."""
        return False


def __getattr__(name: str) -> Any:
    # The Django classes import Django: load them only when asked for.
    if name in ("WhiteNoiseMiddleware", "WhiteNoiseFileResponse"):
        from . import _whitenoise_django

        return getattr(_whitenoise_django, name)
    if name in (
        "CompressedManifestStaticFilesStorage",
        "CompressedStaticFilesStorage",
        "MissingFileError",
    ):
        from . import _whitenoise_storage

        return getattr(_whitenoise_storage, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
