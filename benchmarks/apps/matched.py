"""The header-matched ceiling: staticserve's exact answers replayed from constants.

``run.py`` records, in-process, what staticserve's ASGI and WSGI middleware
send for each scenario (status, the header list in order, the body) and writes
it to ``BENCH_MATCHED``. The matched apps answer ``/m/<scenario>`` (padded
to the length of the scenario's own path, so that the server parses as long a
request line) with that recording and do nothing else: one dict lookup, then
the same messages.
So a ratio to them isolates what staticserve's Python costs per request from
what the server costs to send a response of that shape (more headers cost
every server something; the bare app sends only two).
"""

from __future__ import annotations

import base64
import json
import os

PATH_PREFIX = "/m/"


def path_for(key: str, real_path: str) -> str:
    """The matched app's path for scenario ``key``: as long as ``real_path``."""
    path = PATH_PREFIX + key
    return path + "_" * (len(real_path) - len(path))


def load(kind: str) -> dict[str, dict]:
    """{scenario key: recording} for ``kind`` ("asgi" or "wsgi")."""
    path = os.environ.get("BENCH_MATCHED", "")
    if not path:
        return {}
    with open(path) as f:
        data = json.load(f)[kind]
    for rec in data.values():
        rec["body"] = base64.b64decode(rec["body"])
    return data
