"""Every setting of every design declares its range, and a value outside it fails in one
line, with exit code 2, before any work starts (issue: a bad --set once failed only
after minutes of training, or tried to allocate terabytes).

For each numeric setting the probes are 0, -1, a huge value, NaN and infinity. A probe
inside the declared range must be accepted by the config (or refused by one of its
combination checks, also a one-line usage error); a probe outside it must be refused by
the real command line without the runner ever being called.
"""

from __future__ import annotations

import dataclasses
import math
import typing

import pytest

from mlsd.config import SEED_MAX, build_config, setting_range
from mlsd.errors import UsageError
from mlsd.registry import all_designs

CONFIGURED = [d for d in all_designs() if d.config is not None]
PROBES = ("0", "-1", "1000000000000000000", "nan", "inf")


def _numeric_fields(design):
    hints = typing.get_type_hints(design.config)
    return [f for f in dataclasses.fields(design.config) if hints[f.name] in (int, float)]


def _inside(field, kind, raw: str) -> bool:
    """Whether `raw` parses as the field's type and lies inside its declared range."""
    try:
        value = kind(raw)  # int("nan") and int("inf") fail, as they do on the command line
    except ValueError:
        return False
    lo, hi = setting_range(field)
    return math.isfinite(value) and lo <= value <= hi


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the runner is reached: a refused setting must cost no work."""
    def refuse(*args, **kwargs):
        raise AssertionError("the runner started although a setting was invalid")

    monkeypatch.setattr("mlsd.runner.run_design", refuse)


@pytest.mark.parametrize("design", CONFIGURED, ids=lambda d: d.slug)
def test_every_numeric_setting_declares_a_finite_range_that_holds_every_scale(design):
    for field in _numeric_fields(design):
        bounds = setting_range(field)
        assert bounds is not None, f"{design.slug}.{field.name}: declare it with setting(default, lo, hi)"
        lo, hi = bounds
        assert math.isfinite(lo) and math.isfinite(hi) and lo <= field.default <= hi
    for scale, overrides in design.scales.items():
        build_config(design.config, overrides, {})  # raises if a preset breaks a range or a combination
        for name, value in overrides.items():
            field = next(f for f in dataclasses.fields(design.config) if f.name == name)
            lo, hi = setting_range(field) or (-math.inf, math.inf)
            assert lo <= value <= hi, f"{design.slug} scale {scale}: {name}={value} outside [{lo}, {hi}]"


@pytest.mark.parametrize("design", CONFIGURED, ids=lambda d: d.slug)
def test_values_outside_a_range_fail_in_one_line_before_any_work(design, cli, no_work):
    hints = typing.get_type_hints(design.config)
    for field in _numeric_fields(design):
        for raw in PROBES:
            assignment = f"{field.name}={raw}"
            if _inside(field, hints[field.name], raw):
                try:  # accepted, or refused by a combination check: never a crash
                    build_config(design.config, design.scales.get("tiny", {}), {field.name: raw})
                except UsageError:
                    pass
                continue
            result = cli("run", design.slug, "--scale", "tiny", "--set", assignment)
            lines = result.err.strip().splitlines()
            assert result.code == 2 and len(lines) == 1, (assignment, result.err)
            assert "Traceback" not in result.err and field.name in lines[0], (assignment, lines)


@pytest.mark.parametrize("design", CONFIGURED, ids=lambda d: d.slug)
def test_the_example_in_every_error_is_a_value_that_works(design, cli, no_work):
    """`--set n_users=abc` once suggested n_users=100, which the next check refused."""
    for field in _numeric_fields(design):
        result = cli("run", design.slug, "--scale", "tiny", "--set", f"{field.name}=not-a-number")
        assert result.code == 2
        example = result.err.split("--set ")[-1].strip().rstrip(".)")
        key, _, value = example.partition("=")
        assert key == field.name
        build_config(design.config, design.scales.get("tiny", {}), {key: value})


@pytest.mark.parametrize("seed", ["-1", str(SEED_MAX + 1), "99999999999999999999999"])
def test_seeds_outside_the_stored_range_fail_before_any_work(seed, cli, no_work):
    result = cli("run", "fraud", "--scale", "tiny", "--seed", seed)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result.err
    assert "--seed" in result.err
