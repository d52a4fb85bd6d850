"""gunicorn settings for test servers: ``-c python:tests.support.gunicorn_ready``.

gunicorn's arbiter listens *before* it forks its workers, and each worker
imports the app only then (no ``--preload``). A test that connects as soon as
the port accepts can therefore change the static root before any worker has
indexed it: a test that moves the root away then makes the booting worker fail
its start-up check (a missing root is a ConfigError by design), the arbiter
shuts down ("Worker failed to boot"), queued connections are reset and the
rest of the module is refused. So each worker says when it has loaded the app,
and ``running_server`` waits for that line (:data:`READY`) from every worker.

Only gunicorn setting names are read from this module (gunicorn ignores other
names), so the helpers here start with an underscore.
"""

from __future__ import annotations

import os as _os
import sys as _sys
from typing import Any as _Any

#: Printed by each worker once the app is imported, followed by the worker's pid.
READY = "tests.support.gunicorn_ready: worker loaded the app, pid"

# gunicorn >= 24 opens a control socket at one fixed path per user
# (~/.gunicorn/gunicorn.ctl); test servers of parallel runs would take it from
# each other. None of them is controlled that way. (Older gunicorn ignores it.)
control_socket_disable = True


def post_worker_init(worker: _Any) -> None:
    """Called by gunicorn in the worker after ``load_wsgi()``, before it accepts."""
    print(f"{READY} {_os.getpid()}", file=_sys.stderr, flush=True)
