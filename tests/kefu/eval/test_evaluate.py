"""``python -m kefu eval``: scoring, and cases played through the real pipeline."""
from __future__ import annotations

import pytest

from kefu.config.settings import Settings
from kefu.eval.evaluate import Evaluator, score
from kefu.eval.topics import handoff_reason, topic_of


def test_topics_and_reasons() -> None:
    assert topic_of("greet") == topic_of("thank") == "smalltalk"
    assert topic_of("refund") == "refund"
    assert handoff_reason(["greet", "refund"]) is None
    assert handoff_reason(["request_human", "complaint"]) == "complaint"
    assert handoff_reason(["complaint", "safety_issue"]) == "safety"


def test_score_counts_a_topic_right_when_any_turn_had_it() -> None:
    cases = [
        {"id": "a", "route": "bot", "reason": None, "topic": "refund"},
        {"id": "b", "route": "handoff", "reason": "safety", "topic": None},
    ]
    predictions = [
        {"id": "a", "route": "bot", "reason": None, "topics": ["smalltalk", "refund"]},
        {"id": "b", "route": "handoff", "reason": "complaint", "topics": ["complaint"]},
    ]
    assert score(cases, predictions) == {"route": (2, 2), "reason": (1, 2), "topic": (1, 1)}


@pytest.mark.stack
async def test_cases_play_through_the_pipeline(stack_settings: Settings) -> None:
    cases = [
        {"id": "x1", "turns": ["你好", "订单DD20261104005现在到哪了"]},
        {"id": "x2", "turns": ["I want to speak with a real person please"]},
    ]
    first, second = await Evaluator(stack_settings, customer_id="c1001").run(cases)
    assert first["topics"] == ["smalltalk", "order_status"]
    assert first["route"] == "bot"
    assert any("DD20261104005" in reply for reply in first["replies"])
    assert second["route"] == "handoff"
    assert second["reason"] == "human"
