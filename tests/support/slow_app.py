"""A WSGI app whose import is slow and leaves a mark (for tests/support/test_servers.py).

``SLOW_APP_MARK`` names a file the import writes its pid to, after
``SLOW_APP_DELAY`` seconds: a slow import (Django's setup, a big index) is the
situation under test, not a way to wait for something.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

time.sleep(float(os.environ.get("SLOW_APP_DELAY", "0")))
Path(os.environ["SLOW_APP_MARK"]).write_text(str(os.getpid()))


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]
