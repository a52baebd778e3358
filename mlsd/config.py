"""Typed design configs: scale presets first, then `--set key=value` overrides.

A design's config is a dataclass. Values given on the command line are parsed by the
field's declared type, so `--set n_users=abc` fails with a message naming the type,
and an unknown key fails with the list of valid ones.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from mlsd.errors import UsageError, did_you_mean

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


def build_config(config_cls: type, scale_overrides: dict[str, Any], user: dict[str, str]) -> Any:
    """The design's config at a scale, with the user's overrides parsed and checked."""
    fields = {f.name: f for f in dataclasses.fields(config_cls)}
    hints = typing.get_type_hints(config_cls)
    values: dict[str, Any] = dict(scale_overrides)
    for key, raw in user.items():
        if key not in fields:
            hint = did_you_mean(key, fields)
            raise UsageError(
                f"unknown setting '{key}'.{hint} Valid settings: {', '.join(sorted(fields))}."
            )
        values[key] = _parse(key, raw, hints[key])
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


def _parse(key: str, raw: str, kind: Any) -> Any:
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
    raise UsageError(f"setting '{key}' expects {name}, got '{raw}'. Example: --set {key}={_example(kind)}")


def _example(kind: Any) -> str:
    return {bool: "true", int: "100", float: "0.5"}.get(kind, "text")
