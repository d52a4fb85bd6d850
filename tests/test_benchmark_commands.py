"""The bench_server_instructions.py commands the docs give are ones it accepts.

A run needs valgrind, wrk and most of an hour, so the docs mark their
benchmark block as not run; this holds each of its command lines (and the
script's own usage lines) to the script's argument parser, whose choices are
the servers, scenarios and libraries it knows.
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
COMMAND = "python benchmarks/bench_server_instructions.py"


def documented_commands() -> Iterator[str]:
    docs = (REPO / "docs" / "benchmarks.md").read_text()
    usage = (REPO / "benchmarks" / "bench_server_instructions.py").read_text()
    usage = usage.split('"""')[1].replace("\\\n", " ")  # the docstring, continuations joined
    for text in (docs, usage):
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(COMMAND):
                yield re.sub(r"\s+#.*$", "", line)


@pytest.fixture(scope="module")
def parser() -> Iterator[argparse.ArgumentParser]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_server_instructions

        yield bench_server_instructions.parser()
    finally:
        sys.path.remove(str(REPO / "benchmarks"))


def test_the_docs_give_bench_server_instructions_commands() -> None:
    assert len(list(documented_commands())) >= 6


@pytest.mark.parametrize("command", list(documented_commands()))
def test_a_documented_command_is_accepted(parser: argparse.ArgumentParser, command: str) -> None:
    parser.parse_args(shlex.split(command)[2:])


def test_an_unknown_library_is_refused(parser: argparse.ArgumentParser) -> None:
    with pytest.raises(SystemExit):
        parser.parse_args(["--lib", "staticserve-unmark"])
