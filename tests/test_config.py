"""Options: validated once, with errors that name the option."""

from __future__ import annotations

import pytest

from staticserve.config import Config, ConfigError, make_config


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigError, match="max_agee"):
        make_config(max_agee=10)


@pytest.mark.parametrize(
    ("unknown", "known"), [("max_agee", "max_age"), ("add_headers_function", "add_headers")]
)
def test_unknown_option_suggests_the_closest_known_one(unknown: str, known: str) -> None:
    with pytest.raises(ConfigError, match=rf"{unknown} \(did you mean {known}\?\)"):
        make_config(**{unknown: 1})


@pytest.mark.parametrize(
    ("option", "value", "wanted"),
    [
        ("max_age", "60", "an int or None"),
        ("max_age", True, "an int or None"),
        ("memory_file_max", "1000", "an int"),
        ("recheck_interval", "1", "a number of seconds"),
        ("cached_files_max", 1.5, "an int or None"),
        ("autorefresh", "false", "True or False"),
        ("charset", 5, "a string or None"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_config_error_naming_the_option(
    option: str, value: object, wanted: str
) -> None:
    with pytest.raises(ConfigError, match=rf"option {option} must be {wanted}, got {value!r}"):
        make_config(**{option: value})


def test_charset_none_is_accepted() -> None:
    assert make_config(charset=None).charset is None


def test_a_charset_that_is_not_a_charset_name_is_rejected() -> None:
    with pytest.raises(ConfigError, match="charset='utf 8' is not a charset name"):
        make_config(charset="utf 8")


@pytest.mark.parametrize("name", ["a/b.html", ".index.html"])
def test_an_index_file_that_is_not_a_file_name_is_rejected(name: str) -> None:
    with pytest.raises(ConfigError, match=r"index_file=.* must be a file name"):
        make_config(index_file=name)


@pytest.mark.parametrize(
    "options",
    [{"max_age": -1}, {"chunk_size": 0}, {"memory_budget": -5}, {"max_ranges": -1}],
)
def test_negative_sizes_are_rejected(options: dict) -> None:
    with pytest.raises(ConfigError, match=next(iter(options))):
        Config(**options)


@pytest.mark.parametrize("value", [0, -1])
def test_cached_files_max_below_one_is_rejected(value: int) -> None:
    with pytest.raises(ConfigError, match="cached_files_max"):
        Config(cached_files_max=value)


def test_cached_files_max_none_means_no_limit() -> None:
    assert Config(cached_files_max=None).cached_files_max is None


def test_default_max_age_depends_on_autorefresh() -> None:
    assert Config().effective_max_age == 60
    assert Config(autorefresh=True).effective_max_age == 0
    assert Config(autorefresh=True, max_age=5).effective_max_age == 5


def test_index_file_true_means_index_html() -> None:
    assert Config(index_file=True).index_name == "index.html"
    assert Config(index_file="default.htm").index_name == "default.htm"
    assert Config().index_name is None


def test_allow_all_origins_defaults_to_true() -> None:
    assert Config().allow_all_origins is True


@pytest.mark.parametrize(
    ("option", "hook"),
    [("add_headers", lambda headers: None), ("add_headers", lambda headers, path: None),
     ("immutable_file_test", lambda url: True), ("add_headers", "X-Foo: 1")],
)  # fmt: skip
def test_hook_of_the_wrong_shape_is_a_startup_error_naming_the_shape(
    option: str, hook: object
) -> None:
    with pytest.raises(ConfigError, match=rf"{option}.*\(.*path, url\)"):
        Config(**{option: hook})  # type: ignore[arg-type]


def test_hooks_with_defaults_or_varargs_are_accepted() -> None:
    Config(add_headers=lambda *args: None, immutable_file_test=lambda path, url, extra=1: False)


def test_miss_cache_control_defaults_to_no_store() -> None:
    assert Config().miss_cache_control == "no-store"


def test_miss_cache_control_accepts_a_value_or_none() -> None:
    assert Config(miss_cache_control="public, max-age=10").miss_cache_control == (
        "public, max-age=10"
    )
    assert Config(miss_cache_control=None).miss_cache_control is None


@pytest.mark.parametrize("value", ["", " no-store", "no-store\r\nX-Evil: 1", "max-age=\u20ac", 10])
def test_miss_cache_control_that_is_no_header_value_is_rejected(value: object) -> None:
    with pytest.raises(ConfigError, match="miss_cache_control"):
        Config(miss_cache_control=value)  # type: ignore[arg-type]
