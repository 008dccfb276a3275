"""``python -m kefu eval``: scoring, and cases played through the real pipeline."""
from __future__ import annotations

import pytest

from kefu.config.settings import Settings
from kefu.eval.evaluate import Evaluator, read_cases, score
from kefu.eval.topics import topic_of


def test_topics_and_reasons() -> None:
    assert topic_of("greet") == topic_of("thank") == "smalltalk"
    assert topic_of("refund") == "refund"


def test_score_counts_a_topic_right_when_any_turn_had_it() -> None:
    cases = [
        {"id": "a", "route": "bot", "reason": None, "topic": "refund"},
        {"id": "b", "route": "handoff", "reason": "safety", "topic": None},
    ]
    predictions = [
        {"id": "a", "route": "bot", "reason": None, "topics": ["smalltalk", "refund"]},
        {"id": "b", "route": "handoff", "reason": "complaint", "topics": ["complaint"]},
    ]
    assert score(cases, predictions) == {"route": (2, 2), "reason": (1, 2), "topic": (1, 1), "no_false_transfer": (1, 1)}


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


def test_per_turn_expectations_a_failed_case_and_a_false_transfer_are_scored() -> None:
    cases = [
        {"id": "s1", "turns": ["a", "b", "c"], "route": "bot",
         "turn_expect": [None, {"topic_any": ["invoice"]}, {"kept_off_orders": True}]},
        {"id": "s2", "turns": ["a"], "route": "handoff", "turn_expect": [{"topic_any": ["order_status"]}]},
        {"id": "s3", "turns": ["a"], "route": "bot"},
    ]
    predictions = [
        {"id": "s1", "route": "bot", "reason": None, "topics": ["smalltalk", "invoice", "refund"], "replies": []},
        {"id": "s2", "route": "bot", "reason": None, "topics": [], "replies": [], "error": "timeout"},
        {"id": "s3", "route": "bot", "reason": None, "topics": ["complaint"], "replies": ["正在为您转接人工客服"]},
    ]
    scores = score(cases, predictions)
    assert scores["turn_topic"] == (1, 2)  # s2 timed out: wrong, not skipped
    assert scores["turn_kept_off_orders"] == (0, 1)  # "refund" is an order topic
    assert scores["route"] == (2, 3)
    assert scores["no_false_transfer"] == (1, 2)  # s3 said "transferring" and opened no handoff


def test_every_format_of_the_shared_eval_sets_is_read(tmp_path) -> None:
    bitext = tmp_path / "b.csv"
    bitext.write_text("sentence,intent,category\nx,track_order,ORDER\ny,create_account,ACCOUNT\n"
                      "z,payment_issue,PAYMENT\nw,contact_human_agent,CONTACT\n", encoding="utf-8")
    read = read_cases(bitext)
    assert [(c["label"], c.get("route"), c.get("topic_any"), c.get("kept_off_orders")) for c in read] == [
        ("track_order", "bot", ["order_status"], None), ("create_account", "bot", None, True),
        ("contact_human_agent", "handoff", None, None)]  # payment_issue is ambiguous: not scored
    jddc = tmp_path / "j.jsonl"
    jddc.write_text('{"id": "j1", "lang": "zh", "turns": ["a", "b"], "turn_labels": ["C:greet", "IN:refund|policy"],'
                    ' "handoff": "either"}\n', encoding="utf-8")
    (case,) = read_cases(jddc)
    assert case["turn_expect"] == [None, {"topic_any": ["refund", "policy"]}] and "route" not in case


def test_a_held_out_handoff_set_is_read_as_routed_cases(tmp_path) -> None:
    heldout = tmp_path / "h.yml"
    heldout.write_text('cases:\n  - {id: s1, lang: en, reason: safety, turns: ["it caught fire"]}\n'
                       '  - {id: r1, lang: zh, reason: null, turns: ["你好", "到哪了"]}\n', encoding="utf-8")
    assert read_cases(heldout) == [
        {"id": "s1", "lang": "en", "turns": ["it caught fire"], "route": "handoff", "reason": "safety"},
        {"id": "r1", "lang": "zh", "turns": ["你好", "到哪了"], "route": "bot", "reason": None}]
