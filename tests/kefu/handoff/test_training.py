"""Threshold choice in kefu/handoff/training.py: the false-handoff budget is a mean over routine files."""
from __future__ import annotations

import numpy as np

from kefu.handoff.classifier import LABELS
from kefu.handoff.training import Example, threshold_table


def _turns(file: str, label: str, count: int, complaint: float) -> tuple[list[Example], list[list[float]]]:
    examples = [Example(f"{file} {n}", (), label, f"{file}:cat:en:{n}", "en") for n in range(count)]
    row = {name: 0.0 for name in LABELS} | {"complaint": complaint}
    row["routine"] = 1.0 - complaint
    return examples, [[row[name] for name in LABELS] for _ in range(count)]


def _table(*parts: tuple[list[Example], list[list[float]]]) -> dict:
    examples = [e for part in parts for e in part[0]]
    return threshold_table(examples, np.array([p for part in parts for p in part[1]]))


def _false_rate(table: dict, threshold: float) -> float:
    return next(row["false_rate"] for row in table["rows"]["complaint"] if row["threshold"] == threshold)


def test_the_false_rate_is_the_mean_of_each_routine_files_share() -> None:
    hard = _turns("routine_hard", "routine", 10, 0.7)      # every turn of this file read as complaint 0.7
    easy = _turns("routine_easy", "routine", 30, 0.1)
    complaints = _turns("complaint", "complaint", 10, 0.9)
    table = _table(hard, easy, complaints)
    assert _false_rate(table, 0.5) == 0.5                  # (10/10 + 0/30) / 2 files, not 10/40 pooled
    assert table["rows"]["complaint"][0]["false_handoffs"] == 40   # at 0.05 every routine turn is handed off


def test_more_easy_routine_turns_in_one_file_do_not_loosen_the_threshold() -> None:
    hard = _turns("routine_hard", "routine", 10, 0.7)
    complaints = _turns("complaint", "complaint", 10, 0.9)
    few = _table(hard, _turns("routine_easy", "routine", 10, 0.1), complaints)
    many = _table(hard, _turns("routine_easy", "routine", 400, 0.1), complaints)
    assert few["thresholds"]["complaint"] == many["thresholds"]["complaint"] == 0.75
