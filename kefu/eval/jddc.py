"""JDDC (real JD.com sessions, labelled per turn) as eval cases: each session played turn by turn.

Per turn: ``IN:<topic>[|<also right>]`` must get one of those topics; ``OOS:<what>`` must not get an order topic;
other labels (conversational turns, product defects, a merchant writing, turns after a handoff) are not scored.
Per session: ``handoff`` yes/no is the route; ``either`` is not scored.
"""
from __future__ import annotations

import json
from typing import Any

ROUTE_OF = {"yes": "handoff", "no": "bot"}


def expectation(label: str) -> dict[str, Any] | None:
    kind, _, rest = label.partition(":")
    if kind == "IN":
        return {"topic_any": rest.split("|")}
    if kind == "OOS":
        return {"kept_off_orders": True}
    return None


def case_of(session: dict[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = {"id": session["id"], "lang": session.get("lang", "zh"), "turns": session["turns"],
                            "turn_expect": [expectation(label) for label in session["turn_labels"]]}
    if session.get("handoff") in ROUTE_OF:
        case["route"] = ROUTE_OF[session["handoff"]]
    return case


def is_jddc(first_line: str) -> bool:
    return '"turn_labels"' in first_line


def read_jddc(lines: list[str]) -> list[dict[str, Any]]:
    return [case_of(json.loads(line)) for line in lines if line.strip()]
