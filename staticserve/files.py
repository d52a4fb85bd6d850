"""Reading a plan's file-backed body, verified against what the index promised.

Shared by the adapters: the headers of a plan were computed from a stat, so
the file is opened, ``fstat``-ed and compared before any header is sent. A
file that changed or vanished since is reported (``open`` returns False) so
the adapter can refresh the index entry and plan again; bytes are then read
from the open descriptor, which keeps the old content readable even if the
file is replaced (renamed over) mid-response.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from .plan import Body, FileSlice, Multipart


class FileChanged(Exception):
    """The file shrank while its response was being sent: the response must be cut."""


class BodyReader:
    """Reads a FileSlice or Multipart body in chunks of at most ``chunk_size``."""

    __slots__ = ("_chunk_size", "_fd", "_offset", "_parts", "_remaining", "file")

    def __init__(self, body: Body, chunk_size: int) -> None:
        self._parts: list[bytes | FileSlice] = list(
            body.parts if isinstance(body, Multipart) else (body,)
        )
        self._parts.reverse()  # popped from the end
        self._chunk_size = chunk_size
        self._fd = -1
        self._offset = 0
        self._remaining = 0
        self.file: BinaryIO | None = None

    def open(self) -> bool:
        """Open the variant's file and check it; False if it changed or vanished."""
        variant = next((p.variant for p in self._parts if isinstance(p, FileSlice)), None)
        if variant is None:
            return True
        try:
            self.file = open(variant.path, "rb")  # noqa: SIM115 - closed by close()
        except OSError:
            return False
        fd = self.file.fileno()
        st = os.fstat(fd)
        if not variant.matches_stat(st):
            self.close()
            return False
        self._fd = fd
        return True

    def read(self) -> bytes:
        """The next chunk; ``b""`` once the body is complete."""
        while self._remaining == 0:
            if not self._parts:
                return b""
            part = self._parts.pop()
            if isinstance(part, bytes):
                if part:
                    return part
                continue
            self._offset, self._remaining = part.offset, part.length
        data = os.pread(self._fd, min(self._chunk_size, self._remaining), self._offset)
        if not data:
            raise FileChanged(self.file.name if self.file else "")
        self._offset += len(data)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None
            self._fd = -1
