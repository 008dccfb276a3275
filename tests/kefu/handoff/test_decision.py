"""How HandoffPolicy ranks its sources: lexicon, learned classifier, NLU intent; handoff, offer, or the bot."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from kefu.core.conversations import Understanding
from kefu.handoff import encoder
from kefu.handoff.classifier import LABELS, HandoffClassifier
from kefu.handoff.decision import HandoffPolicy, load_model_rules
from kefu.handoff.detector import LEXICON_PATH, Detector, LexiconError, default_detector


def constant(probabilities: dict[str, float], thresholds: dict[str, float],
             offer: dict[str, float] | None = None) -> HandoffClassifier:
    """A classifier that reads every turn the same way (zero weights, the bias sets the probabilities)."""
    bias = np.log(np.maximum(np.array([probabilities[label] for label in LABELS], dtype=np.float32), 1e-6))
    table = {"offer_thresholds": offer} if offer else {}
    return HandoffClassifier(np.zeros((2 * encoder.DIM + 1, len(LABELS)), dtype=np.float32), bias, thresholds, table)


def policy(classifier: HandoffClassifier, hand_off: tuple[str, ...] = ("safety", "complaint", "human"),
           agrees_from: float | None = None, sure_from: dict[str, float] | None = None) -> HandoffPolicy:
    """The shipped lexicon, with the classifier allowed to hand off these reasons on its own."""
    data = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
    data["classifier"] = {"hand_off": list(hand_off), "model_agrees_from": agrees_from, "sure_from": sure_from}
    detector = Detector(data)
    return HandoffPolicy(detector, load_model_rules(detector), classifier)


def test_the_shipped_policy_lets_the_classifier_hand_off_safety_alone() -> None:
    shipped = default_detector()
    assert shipped.classifier_hands_off == {"safety"} and shipped.classifier_agrees_from is not None


def test_a_complaint_reading_hands_off_when_the_model_agrees_below_its_threshold() -> None:
    reading = constant({"routine": 0.1, "safety": 0.0, "complaint": 0.8, "human": 0.1}, HIGH)
    agreeing = policy(reading, ("safety",), agrees_from=0.3)
    decision = agreeing.decide("hmm", Understanding("complaint", 0.5, []))
    assert (decision.route, decision.reason, decision.source) == ("handoff", "complaint", "classifier")
    assert agreeing.decide("hmm", Understanding("complaint", 0.2, [])).route == "offer"
    assert agreeing.decide("hmm", Understanding("request_human", 0.45, [])).route == "offer"  # another reason


HIGH = {"safety": 0.5, "complaint": 0.5, "human": 0.5}


def test_a_sure_complaint_reading_hands_off_without_the_model() -> None:
    calm = Understanding("order_status", 0.9, [], ranking={"order_status": 0.9})
    sure = constant({"routine": 0.04, "safety": 0.0, "complaint": 0.92, "human": 0.04}, HIGH)
    decision = policy(sure, ("safety",), agrees_from=0.3, sure_from={"complaint": 0.9}).decide("hmm", calm)
    assert (decision.route, decision.reason, decision.source) == ("handoff", "complaint", "classifier")
    # below the floor, or with no floor for the reason, the model's agreement is still needed: an offer
    fairly = constant({"routine": 0.1, "safety": 0.0, "complaint": 0.85, "human": 0.05}, HIGH)
    assert policy(fairly, ("safety",), agrees_from=0.3, sure_from={"complaint": 0.9}).decide("hmm", calm).route == "offer"
    person = constant({"routine": 0.04, "safety": 0.0, "complaint": 0.0, "human": 0.96}, HIGH)
    assert policy(person, ("safety",), agrees_from=0.3, sure_from={"complaint": 0.9}).decide("hmm", calm).route == "offer"
    assert default_detector().classifier_sure_from == {"complaint": 0.9}
    with pytest.raises(LexiconError):
        Detector({"classifier": {"sure_from": {"anger": 0.9}}})


def test_the_model_agrees_when_it_reads_the_reason_second_or_under_a_fallback() -> None:
    offers = {"safety": 0.3, "complaint": 0.3, "human": 0.3}
    reading = constant({"routine": 0.5, "safety": 0.4, "complaint": 0.05, "human": 0.05}, HIGH, offer=offers)
    shipped = policy(reading, ("safety",), agrees_from=0.3)
    unsure = Understanding("nlu_fallback", 0.3, [], ranking={"safety_issue": 0.31, "complaint": 0.2})
    decision = shipped.decide("hmm", unsure)
    assert (decision.route, decision.reason, decision.source) == ("handoff", "safety", "classifier")
    second = Understanding("order_status", 0.5, [], ranking={"order_status": 0.5, "safety_issue": 0.35})
    assert shipped.decide("hmm", second).handoff
    # the model's safety reading below the agreement floor, or only another reason second: an offer
    faint = Understanding("order_status", 0.7, [], ranking={"order_status": 0.7, "safety_issue": 0.29})
    assert shipped.decide("hmm", faint).route == "offer"
    other = Understanding("order_status", 0.5, [], ranking={"order_status": 0.5, "complaint": 0.45})
    assert shipped.decide("hmm", other).route == "offer"


def test_a_safety_reading_below_its_threshold_hands_off_when_the_model_reads_safety_too() -> None:
    """Safety, which the classifier hands off alone from its threshold, hands off from its offer threshold when
    the model reads a safety issue (even below the model's own threshold); complaints do not get this."""
    offers = {"safety": 0.3, "complaint": 0.3, "human": 0.3}
    reading = constant({"routine": 0.5, "safety": 0.4, "complaint": 0.05, "human": 0.05}, HIGH, offer=offers)
    shipped = policy(reading, ("safety",), agrees_from=0.3)
    decision = shipped.decide("hmm", Understanding("safety_issue", 0.6, []))
    assert (decision.route, decision.reason, decision.source) == ("handoff", "safety", "classifier")
    assert shipped.decide("hmm", Understanding("safety_issue", 0.2, [])).route == "offer"  # the model disagrees
    assert shipped.decide("hmm", None).route == "offer"
    complaint = constant({"routine": 0.5, "safety": 0.05, "complaint": 0.4, "human": 0.05}, HIGH, offer=offers)
    assert policy(complaint, ("safety",), agrees_from=0.3).decide(
        "hmm", Understanding("complaint", 0.45, [])).route == "offer"


def test_the_classifier_hands_off_above_its_threshold_and_offers_below_it() -> None:
    sure = policy(constant({"routine": 0.1, "safety": 0.0, "complaint": 0.8, "human": 0.1}, HIGH))
    decision = sure.decide("hmm", None)
    assert (decision.route, decision.reason, decision.priority, decision.source) == (
        "handoff", "complaint", "high", "classifier")
    unsure = policy(constant({"routine": 0.6, "safety": 0.0, "complaint": 0.35, "human": 0.05}, HIGH,
                             offer={"safety": 0.3, "complaint": 0.3, "human": 0.3}))
    decision = unsure.decide("hmm", None)
    assert (decision.route, decision.source, decision.handoff) == ("offer", "classifier", False)
    routine = policy(constant({"routine": 0.9, "safety": 0.05, "complaint": 0.03, "human": 0.02}, HIGH))
    assert routine.decide("hmm", None).route == "bot"


def test_the_classifier_safety_outranks_the_lexicon_complaint_and_the_lexicon_outranks_the_rest() -> None:
    safety = policy(constant({"routine": 0.1, "safety": 0.7, "complaint": 0.1, "human": 0.1}, HIGH))
    assert safety.decide("我要投诉", None).reason == "safety"
    human = policy(constant({"routine": 0.1, "safety": 0.0, "complaint": 0.1, "human": 0.8}, HIGH))
    decision = human.decide("我要投诉", None)
    assert (decision.reason, decision.source) == ("complaint", "lexicon")
    # the classifier's reading wins over the NLU intent, and the NLU intent still hands off without it
    assert human.decide("hmm", Understanding("complaint", 0.95, [])).reason == "human"
    quiet = policy(constant({"routine": 0.97, "safety": 0.01, "complaint": 0.01, "human": 0.01}, HIGH))
    assert quiet.decide("hmm", Understanding("complaint", 0.95, [])).reason == "complaint"


def test_the_context_reaches_the_classifier() -> None:
    """The previous customer turns (oldest first, the last three) are what the classifier reads as context."""
    seen: list[tuple[str, list[str]]] = []

    class Recording(HandoffClassifier):
        def read(self, text: str, previous=()):  # type: ignore[override]
            seen.append((text, list(previous)))
            return super().read(text, previous)

    recording = Recording(np.zeros((2 * encoder.DIM + 1, 4), dtype=np.float32), np.zeros(4, dtype=np.float32), HIGH)
    history = [{"text": f"turn {n}"} for n in range(5)]
    policy(recording).decide("now", None, history)
    assert seen == [("now", ["turn 2", "turn 3", "turn 4"])]


def test_lexicon_yml_names_the_reasons_the_classifier_may_hand_off_alone() -> None:
    data = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
    data["classifier"] = {"hand_off": ["safety"]}  # and no model agreement
    detector = Detector(data)
    sure = constant({"routine": 0.1, "safety": 0.0, "complaint": 0.8, "human": 0.1}, HIGH)
    decision = HandoffPolicy(detector, load_model_rules(detector), sure).decide("hmm", None)
    assert (decision.route, decision.source) == ("offer", "classifier")  # a complaint reading only offers
    burning = constant({"routine": 0.1, "safety": 0.8, "complaint": 0.05, "human": 0.05}, HIGH)
    assert HandoffPolicy(detector, load_model_rules(detector), burning).decide("hmm", None).reason == "safety"
    with pytest.raises(LexiconError, match="classifier.hand_off"):
        Detector(data | {"classifier": {"hand_off": ["angry"]}})


def test_a_question_about_a_complaints_progress_is_answered_without_offering_a_person() -> None:
    """The classifier's complaint guess yields to a confident "where is my complaint at?" reading; a complaint
    it is sure of still hands off whatever the model reads."""
    guessing = constant({"routine": 0.2, "safety": 0.0, "complaint": 0.7, "human": 0.1}, HIGH)
    asks = policy(guessing, ("safety",), agrees_from=0.3)
    assert asks.decide("hmm", Understanding("ticket_status", 0.95, [])).route == "bot"
    assert asks.decide("hmm", Understanding("ticket_status", 0.6, [])).route == "offer"
    assert asks.decide("hmm", Understanding("order_status", 0.95, [])).route == "offer"
    sure = constant({"routine": 0.1, "safety": 0.0, "complaint": 0.8, "human": 0.1}, HIGH)
    assert policy(sure).decide("hmm", Understanding("ticket_status", 0.95, [])).route == "handoff"
