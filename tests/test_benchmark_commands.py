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
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent
COMMAND = "python benchmarks/bench_server_instructions.py"


def documented_commands() -> Iterator[str]:
    """The commands in the docs (whole lines, and quoted in prose across line
    breaks) and in the script's usage lines."""
    docs = (REPO / "docs" / "benchmarks.md").read_text()
    usage = (REPO / "benchmarks" / "bench_server_instructions.py").read_text()
    usage = usage.split('"""')[1].replace("\\\n", " ")  # the docstring, continuations joined
    for text in (docs, usage):
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(COMMAND):
                yield re.sub(r"\s+#.*$", "", line)
    for quoted in re.findall(r"`(python\s+benchmarks/bench_server_instructions\.py[^`]*)`", docs):
        yield " ".join(quoted.split())


@pytest.fixture(scope="module")
def bench() -> Iterator[ModuleType]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_server_instructions

        yield bench_server_instructions
    finally:
        sys.path.remove(str(REPO / "benchmarks"))


@pytest.fixture(scope="module")
def parser(bench: ModuleType) -> argparse.ArgumentParser:
    return bench.parser()


def test_the_docs_give_bench_server_instructions_commands() -> None:
    assert len(list(documented_commands())) >= 6


@pytest.mark.parametrize("command", list(documented_commands()))
def test_a_documented_command_is_accepted(parser: argparse.ArgumentParser, command: str) -> None:
    parser.parse_args(shlex.split(command)[2:])


def test_an_unknown_library_is_refused(parser: argparse.ArgumentParser) -> None:
    with pytest.raises(SystemExit):
        parser.parse_args(["--lib", "staticserve-unmark"])


def _cell(spread: float, scale: int) -> dict:
    return {"instr": 1000.0 * scale, "spread": spread, "requests": 900, "errors": 0, "scale": scale}


def _counted_with(bench: ModuleType, monkeypatch: pytest.MonkeyPatch, cell) -> dict | None:
    """counted_cell() where per_request(..., scale) answers ``cell(scale)``."""
    monkeypatch.setattr(bench, "per_request", lambda srv, sc, h, rounds, scale=1: cell(scale))
    return bench.counted_cell(None, None, {}, 3)


def test_a_cell_whose_differences_agree_keeps_the_short_windows(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    scales: list[int] = []
    counted = _counted_with(
        bench, monkeypatch, lambda scale: scales.append(scale) or _cell(0.02, scale)
    )
    assert counted["scale"] == 1
    assert scales == [1]


def test_a_cell_whose_differences_disagree_is_counted_again_in_wider_windows(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _counted_with(
        bench, monkeypatch, lambda scale: _cell(0.2 if scale == 1 else 0.03, scale)
    )
    assert counted["scale"] == bench.WIDER


def test_a_cell_too_slow_for_the_wider_windows_keeps_its_short_count(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted = _counted_with(bench, monkeypatch, lambda scale: _cell(0.2, 1) if scale == 1 else None)
    assert counted["scale"] == 1


def test_a_default_run_leaves_out_the_miss_lower_bounds(bench: ModuleType) -> None:
    assert bench.counted_in_run(bench.UNMARKED, [])
    assert not bench.counted_in_run(bench.APP_MARKED, [])
    assert not bench.counted_in_run(bench.FREE_MARKING, [])


def test_a_run_counts_a_miss_lower_bound_its_lib_names(bench: ModuleType) -> None:
    assert bench.counted_in_run(bench.FREE_MARKING, ["matched", bench.FREE_MARKING])
    assert not bench.counted_in_run(bench.UNMARKED, ["matched", bench.FREE_MARKING])


def test_every_miss_only_contender_has_its_app_module(bench: ModuleType) -> None:
    import run

    cons = [c for c in run.contenders(True, True) if c.library == "staticserve"]
    extra = bench.miss_only(cons)
    assert len(extra) == len(cons) * len(bench.MISS_ONLY)
    for c in extra:
        assert (REPO / "benchmarks" / "apps" / f"{c.module}.py").is_file(), c.key
