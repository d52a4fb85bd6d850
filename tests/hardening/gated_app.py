"""Apps (ASGI, WSGI) whose first load of ``big.bin`` is held open until the test says so.

Served by a real server in tests/hardening/test_first_load.py. The root is
``GATED_ROOT``; ``GATED_DIR`` is where the gate lives: each load of
``big.bin`` (after its content has been hashed, in the ``add_headers`` hook)
writes a file ``entered-<n>`` there and then waits until a file ``release``
appears. So "a load is in progress" is a fact the test can see, not a race
with the hash.
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import Any

from staticserve import StaticServe, StaticServeWSGI

GATE = Path(os.environ.get("GATED_DIR", "."))
_loads = itertools.count(1)


def hold_big_file_loads(headers: Any, path: str, url: str) -> None:
    if not url.endswith("/big.bin"):
        return
    (GATE / f"entered-{next(_loads)}").write_bytes(b"")
    # A hang guard for a server the test left behind, never what a test checks:
    # it outlasts the tests' own 120 s timeout, and every test releases the
    # gate itself (the fixture does in its finally), so only an order decides.
    deadline = time.monotonic() + 300
    while not (GATE / "release").exists() and time.monotonic() < deadline:  # the hang guard
        time.sleep(0.005)


app = StaticServe(root=os.environ.get("GATED_ROOT", "."), add_headers=hold_big_file_loads)
# The same under a threaded WSGI server (gunicorn gthread): one thread per request.
wsgi_app = StaticServeWSGI(root=os.environ.get("GATED_ROOT", "."), add_headers=hold_big_file_loads)
