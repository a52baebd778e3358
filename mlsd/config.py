"""Typed design configs: scale presets first, then `--set key=value` overrides.

A design's config is a dataclass whose numeric fields are declared with `setting(default,
lo, hi)`: the valid range sits next to the default, and the ceiling keeps a run within
a laptop's memory. Values given on the command line are parsed by the field's declared
type and checked against its range here, before any work starts, so `--set n_users=abc`,
`n_users=0`, `n_users=1e12` and `n_users=nan` each fail in one line that names a value
that works. A config's `__post_init__` checks combinations with `require()`.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

from mlsd.errors import UsageError, did_you_mean

SEED_MAX = 2**32 - 1  # numpy's legacy seeding limit; also far inside SQLite's INTEGER

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """['a=1', 'b=x'] -> {'a': '1', 'b': 'x'}; a pair without '=' is a usage error."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set expects key=value, got '{pair}'. Example: --set n_users=2000")
        out[key.strip()] = value.strip()
    return out


def setting(default: float, lo: float, hi: float) -> Any:
    """A numeric config field with its valid closed range [lo, hi], checked by
    build_config before any work. `hi` is a ceiling for sizes: past it a run would not
    fit a laptop's memory or time."""
    if not lo <= default <= hi:
        raise ValueError(f"default {default} outside its own range [{lo}, {hi}]")
    return dataclasses.field(default=default, metadata={"range": (lo, hi)})


def setting_range(field: dataclasses.Field) -> tuple[float, float] | None:
    return field.metadata.get("range")


def check_seed(seed: int) -> int:
    """Seeds are 0..2^32-1: the same bound everywhere a seed is stored or used."""
    if not 0 <= seed <= SEED_MAX:
        raise UsageError(f"--seed must be between 0 and {SEED_MAX:,}, got {seed}. Example: --seed 0")
    return seed


def build_config(config_cls: type, scale_overrides: dict[str, Any], user: dict[str, str]) -> Any:
    """The design's config at a scale, with the user's overrides parsed and checked:
    types, then each value against its range, then the config's own combinations."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    preset: dict[str, Any] = dict(scale_overrides)  # what this scale runs with, before the user's changes
    values = dict(preset)
    for key, raw in user.items():
        if key not in fields:
            hint = did_you_mean(key, fields)
            raise UsageError(
                f"unknown setting '{key}'.{hint} Valid settings: {', '.join(sorted(fields))}."
            )
        values[key] = _parse(key, raw, hints[key], _example(fields[key], preset))
    out_of_range = [_range_problem(fields[key], values[key], preset) for key in user]
    out_of_range = [problem for problem in out_of_range if problem]
    if out_of_range:
        raise UsageError("; ".join(out_of_range) + ".")
    try:
        return config_cls(**values)  # a config's __post_init__ may reject a combination of values
    except ValueError as exc:
        raise UsageError(f"invalid settings: {exc}.") from None


def require(checks: list[tuple[bool, str]]) -> None:
    """A config's own checks, from its __post_init__: one ValueError naming every
    (condition, message) pair that failed, which build_config turns into a usage error."""
    problems = [message for ok, message in checks if not ok]
    if problems:
        raise ValueError("; ".join(problems))


def config_as_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def _example(field: dataclasses.Field, preset: dict[str, Any]) -> str:
    """A value that works for this field, as one would type it: the one this scale uses."""
    return repr(preset.get(field.name, field.default))


def _shown(x: float) -> str:
    """A bound or value for a message: 50,000 and 1e+12 rather than 50000.0 and 1000000000000.0."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return f"{int(x):,}" if float(x).is_integer() and abs(x) < 1e9 else f"{x:g}"


def _range_problem(field: dataclasses.Field, value: Any, preset: dict[str, Any]) -> str:
    bounds = setting_range(field)
    if bounds is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    lo, hi = bounds
    if math.isfinite(value) and lo <= value <= hi:
        return ""
    return (f"{field.name} must be between {_shown(lo)} and {_shown(hi)}, got {_shown(value)} "
            f"(example: --set {field.name}={_example(field, preset)})")


def _parse(key: str, raw: str, kind: Any, example: Any) -> Any:
    try:
        if kind is bool:
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is str:
            return raw
    except ValueError:
        pass
    else:
        raise UsageError(f"setting '{key}' has a type mlsd cannot parse from the command line")
    name = getattr(kind, "__name__", str(kind))
    raise UsageError(f"setting '{key}' expects {_KIND_NAMES.get(kind, name)}, got '{raw}'. "
                     f"Example: --set {key}={example}")


_KIND_NAMES = {int: "a whole number", float: "a number", bool: "true or false"}
