"""WhiteNoise 6.12's own tests through the compatibility module fail only as documented.

Needs a checkout of WhiteNoise's repository (``WHITENOISE_SOURCE=PATH``), which
this repository does not contain; without one the test is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.compat import whitenoise_suite
from tests.support.servers import REPO

SOURCE = os.environ.get("WHITENOISE_SOURCE")


def test_every_expected_failure_names_a_section_of_the_guide() -> None:
    guide = (REPO / "docs/migrating-from-whitenoise.md").read_text()
    for section in set(whitenoise_suite.EXPECTED_FAILURES.values()):
        assert f"### {section}\n" in guide, section


@pytest.mark.skipif(not SOURCE, reason="set WHITENOISE_SOURCE to a WhiteNoise 6.12.0 checkout")
@pytest.mark.timeout(600)
def test_whitenoise_suite_fails_only_where_the_guide_says() -> None:
    pytest.importorskip("requests")
    passed, failed = whitenoise_suite.run(Path(SOURCE or ""))
    unexpected = sorted(t for t, b in failed.items() if b not in whitenoise_suite.EXPECTED_FAILURES)
    assert unexpected == [] and passed > 0
