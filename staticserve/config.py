"""Options shared by every adapter, validated once at start-up."""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .hashed_names import is_hashed_url
from .headers import HeaderList

# Django's hashed names: ``name.<12 hex>.ext`` (ManifestStaticFilesStorage). No
# longer the default (that is hashed_names.is_hashed_url, which also knows the
# bundlers' formats); kept for users who want exactly Django's rule.
DEFAULT_IMMUTABLE_PATTERN = r"\.[0-9a-f]{12}\.[^./]+$"

# Both hooks get ``(path, url)``: the file's path on disk and its full URL path
# (``/static/css/a.css``, ``/static/docs/`` for an index file), as WhiteNoise does.
ImmutableTest = Callable[[str, str], bool]
AddHeaders = Callable[[HeaderList, str, str], None]


class ConfigError(ValueError):
    """A start-up problem: the message names the file or option and the fix."""


class MissingRoot(ConfigError):
    """A static root that is not a directory (and may not appear later)."""


@dataclass(frozen=True)
class Config:
    """Every option of staticserve; see README "Configuration" for each one.

    ``max_age`` applies to files that are not immutable; ``None`` means 60 s in
    production and 0 (``no-cache``) with ``autorefresh``. ``recheck_interval``
    is how long an answer may rest on a file's last stat: after it, the next
    request re-stats the file (like nginx's ``open_file_cache_valid``), so an
    edited or deleted file is noticed within that time without a stat on every
    request; 0 re-stats on every request. ``cached_files_max`` is how many
    files' prebuilt answers a worker keeps (like nginx's ``open_file_cache
    max``); the least recently used is dropped and rebuilt, with one stat, when
    asked for again. ``memory_budget`` bounds the bytes of small files (at most
    ``memory_file_max`` each) held in memory, least recently used dropped first.
    """

    max_age: int | None = None
    immutable_file_test: ImmutableTest | str | None = is_hashed_url
    index_file: bool | str = False
    allow_all_origins: bool = True
    add_headers: AddHeaders | None = None
    mimetypes: Mapping[str, str] | None = None
    charset: str | None = "utf-8"
    memory_file_max: int = 256 * 1024
    memory_budget: int = 64 * 1024 * 1024
    cached_files_max: int | None = 10_000
    chunk_size: int = 1024 * 1024
    max_ranges: int = 32
    include_dotfiles: bool = False
    follow_outside_symlinks: bool = False
    autorefresh: bool = False
    recheck_interval: float = 1.0
    manifest: bool = True
    fallback: str | None = None
    miss_cache_control: str | None = "no-store"
    _immutable: ImmutableTest = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_types(self)
        for name in ("memory_file_max", "memory_budget", "max_ranges"):
            if getattr(self, name) < 0:
                raise ConfigError(f"staticserve: option {name} must be >= 0")
        if self.cached_files_max is not None and self.cached_files_max < 1:
            raise ConfigError(
                "staticserve: option cached_files_max must be >= 1, or None for no limit"
            )
        if self.chunk_size <= 0:
            raise ConfigError("staticserve: option chunk_size must be > 0")
        if self.recheck_interval < 0:
            raise ConfigError("staticserve: option recheck_interval must be >= 0 (seconds)")
        if self.max_age is not None and self.max_age < 0:
            raise ConfigError("staticserve: option max_age must be >= 0 or None")
        if self.add_headers is not None:
            _check_hook("add_headers", self.add_headers, "(headers, path, url)")
        if callable(self.immutable_file_test):
            _check_hook("immutable_file_test", self.immutable_file_test, "(path, url)")
        _check_header_value("miss_cache_control", self.miss_cache_control)
        if self.charset and not _TOKEN.fullmatch(self.charset):
            raise ConfigError(
                f"staticserve: option charset={self.charset!r} is not a charset name; "
                "give one such as 'utf-8'"
            )
        if isinstance(self.index_file, str) and (
            "/" in self.index_file or self.index_file.startswith(".")
        ):
            raise ConfigError(
                f"staticserve: option index_file={self.index_file!r} must be a file name "
                "such as 'index.html' (no '/'), or True"
            )
        object.__setattr__(self, "_immutable", _compile_immutable_test(self.immutable_file_test))
        if self.fallback is not None:
            name = str(self.fallback).strip("/")
            parts = name.split("/")
            if not name or any(p in ("", ".", "..") or p.startswith(".") for p in parts):
                raise ConfigError(
                    f"staticserve: option fallback {self.fallback!r} must name a file below "
                    "the prefix, e.g. fallback='index.html'"
                )
            object.__setattr__(self, "fallback", name)

    @property
    def effective_max_age(self) -> int:
        if self.max_age is not None:
            return self.max_age
        return 0 if self.autorefresh else 60

    @property
    def index_name(self) -> str | None:
        if self.index_file is True:
            return "index.html"
        return self.index_file or None

    def is_entry_point(self, rel: str) -> bool:
        """An HTML entry point (the index file, the SPA fallback): revalidated, never immutable."""
        index_name = self.index_name
        if index_name and (rel == index_name or rel.endswith("/" + index_name)):
            return True
        return rel == self.fallback

    def is_immutable(self, path: str, url: str) -> bool:
        return self._immutable(path, url)


# The options that take plain values, and the types each accepts (a bool is
# not a number here). A string where a number belongs (read from a settings
# file or the environment) is named at start-up, not a TypeError later.
_INT, _INT_OR_NONE, _BOOL = (
    ((int,), "an int"),
    ((int, type(None)), "an int or None"),
    ((bool, int), "True or False"),  # 0 and 1 too, as Python's own flags take them
)
_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "max_age": _INT_OR_NONE,
    "index_file": ((bool, str), "True, False or a file name"),
    "allow_all_origins": _BOOL,
    "charset": ((str, type(None)), "a string or None"),
    "memory_file_max": _INT,
    "memory_budget": _INT,
    "cached_files_max": _INT_OR_NONE,
    "chunk_size": _INT,
    "max_ranges": _INT,
    "include_dotfiles": _BOOL,
    "follow_outside_symlinks": _BOOL,
    "autorefresh": _BOOL,
    "recheck_interval": ((int, float), "a number of seconds"),
    "manifest": _BOOL,
}
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")  # RFC 9110 5.6.2


def _check_types(config: Config) -> None:
    for name, (types, wanted) in _TYPES.items():
        value = getattr(config, name)
        if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
            raise ConfigError(
                f"staticserve: option {name} must be {wanted}, got {value!r} "
                f"({type(value).__name__})"
            )


def _check_hook(name: str, hook: object, shape: str) -> None:
    """Reject a hook that cannot take its arguments now, not on the first request."""
    if not callable(hook):
        raise ConfigError(f"staticserve: option {name} must be a function {shape}, got {hook!r}")
    try:
        signature = inspect.signature(hook)
    except (TypeError, ValueError):
        return  # a builtin or C callable: nothing to inspect
    try:
        signature.bind(*(None for _ in shape.strip("()").split(", ")))
    except TypeError as exc:
        raise ConfigError(
            f"staticserve: option {name} = {getattr(hook, '__qualname__', hook)!r} cannot be "
            f"called as {name}{shape} ({exc}); give it exactly the parameters {shape}"
        ) from None


# RFC 9110 5.5 field-value: visible ASCII/obs-text, spaces and tabs inside.
_FIELD_VALUE = re.compile(r"[\x21-\x7e\x80-\xff](?:[\x20-\x7e\x80-\xff\t]*[\x21-\x7e\x80-\xff])?")


def _check_header_value(name: str, value: str | None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not _FIELD_VALUE.fullmatch(value):
        raise ConfigError(
            f"staticserve: option {name}={value!r} is not a valid header value; give a "
            "Cache-Control value such as 'no-store' or 'public, max-age=10', or None for no header"
        )


def _compile_immutable_test(test: ImmutableTest | str | None) -> ImmutableTest:
    if test is None:
        return lambda path, url: False
    if callable(test):
        return test
    try:
        pattern = re.compile(test)
    except re.error as exc:
        raise ConfigError(
            f"staticserve: immutable_file_test {test!r} is not a valid regular expression: {exc}"
        ) from None
    return lambda path, url: pattern.search(url) is not None


def make_config(**options: object) -> Config:
    """Build a Config from keyword options, naming any unknown option."""
    known = {f for f in Config.__dataclass_fields__ if not f.startswith("_")}
    unknown = sorted(set(options) - known)
    if unknown:
        hints = [
            f"{name} (did you mean {close[0]}?)" if close else name
            for name in unknown
            for close in [difflib.get_close_matches(name, known, n=1)]
        ]
        raise ConfigError(
            f"staticserve: unknown option(s) {', '.join(hints)}; "
            f"known options are {', '.join(sorted(known))}"
        )
    return Config(**options)  # type: ignore[arg-type]
