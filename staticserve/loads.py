"""A file's first load or reload, run in a thread for an event loop (ASGI, Django async).

A load without a manifest reads the whole file for its content ETag: seconds
for a file of hundreds of MB, during which an event loop running it inline
would answer no other connection. :class:`ThreadedLoads` runs
:meth:`StaticFiles.load` in the loop's default thread pool, and concurrent
requests for the same path share one load (one hash, one thread).
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from .service import StaticFiles


class ThreadedLoads:
    """:meth:`StaticFiles.load` off the event loop, one load per path at a time."""

    def __init__(self, files: StaticFiles) -> None:
        self.files = files
        # Path → its load running in a thread.
        self._loading: dict[str, asyncio.Future[Any]] = {}

    async def load(self, path: str) -> None:
        loop = asyncio.get_running_loop()
        loading = self._loading
        future = loading.get(path)
        if future is None or future.get_loop() is not loop:
            future = loop.run_in_executor(None, self.files.load, path)
            loading[path] = future
            future.add_done_callback(functools.partial(_loaded, loading, path))
        # Shielded: a client that goes away does not cancel the others' load.
        await asyncio.shield(future)


def _loaded(
    loading: dict[str, asyncio.Future[Any]], path: str, future: asyncio.Future[Any]
) -> None:
    if loading.get(path) is future:
        del loading[path]
    if not future.cancelled():
        future.exception()  # retrieved: every waiter may have gone (it is raised to those left)
