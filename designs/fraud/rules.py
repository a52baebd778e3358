"""A declarative rules engine: rules are data (rules.yaml), evaluated on feature rows.

Rules encode what analysts know today and act instantly on new patterns; the model
generalises. The serving path applies both and takes the stronger action.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from importlib import resources

import numpy as np
import yaml

from mlsd.designs.fraud.features import INDEX

APPROVE, REVIEW, DECLINE = 0, 1, 2
ACTIONS = {"approve": APPROVE, "review": REVIEW, "decline": DECLINE}
ACTION_NAMES = {v: k for k, v in ACTIONS.items()}
OPERATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
             "==": operator.eq, "!=": operator.ne}


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple[tuple[int, object, float], ...]  # (feature column, comparison, value)
    action: int


def parse_rules(entries: list[dict]) -> list[Rule]:
    """Check and compile rule entries; a bad rule names its problem."""
    rules = []
    for entry in entries:
        name = entry.get("name", "?")
        if entry.get("action") not in ACTIONS:
            raise ValueError(f"rule {name!r}: action must be one of {sorted(ACTIONS)}")
        conditions = []
        for feature, op, value in entry["when"]:
            if feature not in INDEX:
                raise ValueError(f"rule {name!r}: unknown feature {feature!r}")
            if op not in OPERATORS:
                raise ValueError(f"rule {name!r}: unknown operator {op!r}")
            conditions.append((INDEX[feature], OPERATORS[op], float(value)))
        rules.append(Rule(name, tuple(conditions), ACTIONS[entry["action"]]))
    return rules


def load_rules() -> list[Rule]:
    text = resources.files("mlsd.designs.fraud").joinpath("rules.yaml").read_text()
    return parse_rules(yaml.safe_load(text))


def fired(rules: list[Rule], X: np.ndarray) -> np.ndarray:
    """Boolean (rows, rules): which rule fires on which row."""
    X = np.atleast_2d(X)
    out = np.ones((X.shape[0], len(rules)), dtype=bool)
    for r, rule in enumerate(rules):
        for column, compare, value in rule.conditions:
            out[:, r] &= compare(X[:, column], value)
    return out


def actions(rules: list[Rule], X: np.ndarray) -> np.ndarray:
    """The strongest action of the rules that fire, per row (APPROVE when none)."""
    strengths = np.array([rule.action for rule in rules])
    return (fired(rules, X) * strengths).max(axis=1, initial=APPROVE)


def action_of_row(rules: list[Rule], row) -> int:
    """The same decision for one request, without numpy overhead: the serving path."""
    best = APPROVE
    for rule in rules:
        if rule.action > best and all(compare(row[column], value) for column, compare, value in rule.conditions):
            best = rule.action
    return best
