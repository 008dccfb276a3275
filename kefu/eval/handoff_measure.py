"""Precision and recall per handoff reason on a labelled set (tests/fixtures/handoff_cases.jsonl)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kefu.handoff.detector import REASONS


def read_labelled(path: Path) -> list[dict[str, Any]]:
    """One {"id", "lang", "text", "reason": null|safety|complaint|human} per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def precision_recall(pairs: Iterable[tuple[str | None, str | None]]) -> dict[str, tuple[float, float, int]]:
    """(expected, predicted) reasons -> {reason: (precision, recall, support)}; "handoff" scores the route."""
    pairs = list(pairs)
    table = {}
    for reason in (*REASONS, "handoff"):
        def hit(value: str | None, reason: str = reason) -> bool:
            return value is not None if reason == "handoff" else value == reason
        tp = sum(hit(e) and hit(p) for e, p in pairs)
        predicted = sum(hit(p) for _, p in pairs)
        actual = sum(hit(e) for e, _ in pairs)
        table[reason] = (tp / predicted if predicted else 1.0, tp / actual if actual else 1.0, actual)
    return table


def format_table(title: str, table: dict[str, tuple[float, float, int]]) -> str:
    lines = [title, f"{'reason':<10} {'precision':>9} {'recall':>7} {'support':>8}"]
    for reason, (precision, recall, support) in table.items():
        lines.append(f"{reason:<10} {precision:>9.1%} {recall:>7.1%} {support:>8}")
    return "\n".join(lines)
