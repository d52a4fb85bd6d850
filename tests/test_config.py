"""Options: validated once, with errors that name the option."""

from __future__ import annotations

import pytest

from staticserve.config import Config, ConfigError, make_config


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigError, match="max_agee"):
        make_config(max_agee=10)


@pytest.mark.parametrize(
    "options",
    [{"max_age": -1}, {"chunk_size": 0}, {"memory_budget": -5}, {"max_ranges": -1}],
)
def test_negative_sizes_are_rejected(options: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(options))):
        Config(**options)


def test_default_max_age_depends_on_autorefresh() -> None:
    assert Config().effective_max_age == 60
    assert Config(autorefresh=True).effective_max_age == 0
    assert Config(autorefresh=True, max_age=5).effective_max_age == 5


def test_index_file_true_means_index_html() -> None:
    assert Config(index_file=True).index_name == "index.html"
    assert Config(index_file="default.htm").index_name == "default.htm"
    assert Config().index_name is None
