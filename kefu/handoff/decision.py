"""One handoff decision per customer turn, from the lexicon, the learned classifier, the NLU model's intent and the
conversation so far."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kefu.core.conversations import Understanding
from kefu.handoff import encoder
from kefu.handoff.classifier import CONTEXT_TURNS, HandoffClassifier, Verdict
from kefu.handoff.detector import REASONS, Detector, default_detector, normalise
from kefu.handoff.training import load_current

PRIORITIES: dict[str, str] = {"safety": "urgent", "complaint": "high", "human": "normal"}
PRIORITY_RANK: dict[str, int] = {"urgent": 0, "high": 1, "normal": 2}
STATUS_INTENTS = frozenset({"ticket_status"})  # questions the bot answers from the ticket itself
STATUS_CONFIDENCE = 0.9


@dataclass(frozen=True)
class Decision:
    """route "bot", "handoff", or "offer" (the bot answers and asks whether the customer wants a person); for a
    handoff or an offer the reason, its priority and what triggered it."""

    route: str
    reason: str | None = None
    priority: str | None = None
    source: str | None = None
    evidence: str = ""

    @property
    def handoff(self) -> bool:
        return self.route == "handoff"

    @property
    def offer(self) -> bool:
        return self.route == "offer"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


STAY = Decision(route="bot")


def _handoff(reason: str, source: str, evidence: str) -> Decision:
    return Decision(route="handoff", reason=reason, priority=PRIORITIES[reason], source=source, evidence=evidence)


def _offer(source: str, evidence: str) -> Decision:
    """Seeming stuck is a guess, not a request: the customer is asked, with one tap to a person."""
    return Decision(route="offer", reason="human", priority=PRIORITIES["human"], source=source, evidence=evidence)


@dataclass(frozen=True)
class ModelRule:
    reason: str
    min_confidence: float


class HandoffPolicy:
    """Safety wins over everything; then complaint, then a request for a person. Each is heard from three
    sources: the lexicon (explicit triggers only: the net), the handoff classifier (the turn read with the
    customer's previous turns, per-reason thresholds) and the NLU model's intent. A customer who seems stuck (the
    same question again, or the bot misunderstanding turns in a row) is offered a person, not handed over."""

    def __init__(self, detector: Detector, model_rules: dict[str, ModelRule],
                 classifier: HandoffClassifier | None = None) -> None:
        self.detector = detector
        self.model_rules = model_rules
        self.classifier = classifier

    @classmethod
    def default(cls) -> HandoffPolicy:
        """The shipped lexicon and the classifier for the current data/handoff/ (built when missing); the
        encoder starts loading now, so the first customer does not wait for it."""
        detector = default_detector()
        encoder.warm_in_background()
        return cls(detector, load_model_rules(detector), load_current())

    def decide(
        self,
        text: str,
        understanding: Understanding | None,
        history: Sequence[dict[str, Any]] = (),
    ) -> Decision:
        """history: the conversation's earlier customer entries (oldest first), each with text and understanding."""
        lexicon = {reason: self.detector.match(reason, text) for reason in REASONS}
        model: Decision | None = None
        if understanding is not None and understanding.intent in self.model_rules:
            rule = self.model_rules[understanding.intent]
            if (understanding.confidence or 0.0) >= rule.min_confidence:
                model = _handoff(rule.reason, "model", f"{understanding.intent} {understanding.confidence:.2f}")
        learned: Decision | None = None
        guess: Decision | None = None
        routine = 0.0
        if self.classifier is not None:
            previous = [str(entry.get("text") or "") for entry in history][-CONTEXT_TURNS:]
            verdict = self.classifier.read(text, previous)
            routine = verdict.probabilities["routine"]
            # A reason the classifier hands off on its own (safety) also hands off from its lower offer threshold
            # when the model reads it too: a missed safety report costs more than a complaint's.
            sure = verdict.offer if verdict.offer in self.detector.classifier_hands_off else None
            if (verdict.reason in self.detector.classifier_hands_off or self._sure(verdict)
                    or self._model_agrees(verdict.reason, understanding)):
                learned = _handoff(verdict.reason, "classifier", verdict.evidence)
            elif sure is not None and self._model_agrees(sure, understanding):
                learned = _handoff(sure, "classifier", verdict.evidence)
            elif verdict.offer is not None and not _asks_after_a_complaint(understanding):
                guess = _offer("classifier", verdict.evidence)
        # A request for a person the model hears is never overruled: refusing one costs more than a needless queue.
        if model is not None and model.reason != "human" and self._overruled("model", routine):
            guess, model = guess or _offer("model", f"{model.evidence}; classifier routine {routine:.2f}"), None
        safety = lexicon["safety"]
        if safety is not None:
            return _handoff("safety", "lexicon", safety.span)
        for found in (learned, model):
            if found is not None and found.reason == "safety":
                return found
        # What the customer literally said outranks a reading of it ("叫你们主管来" asks for a person even when
        # a model hears a complaint); between the two lexicon reasons, complaint first. A complaint word in a
        # turn the classifier is sure is routine ("how does your complaints process work?") only offers.
        complaint = lexicon["complaint"]
        if complaint is not None and self._overruled("lexicon", routine):
            guess = guess or _offer("lexicon", f"{complaint.span}; classifier routine {routine:.2f}")
        elif complaint is not None:
            return _handoff("complaint", "lexicon", complaint.span)
        if lexicon["human"] is not None:
            return _handoff("human", "lexicon", lexicon["human"].span)
        if learned is not None:
            return learned
        if model is not None:
            return model
        return guess or self._stuck(text, understanding, history) or STAY

    def _overruled(self, source: str, routine: float) -> bool:
        """The classifier is sure enough the turn is routine to turn this source's handoff into an offer."""
        floor = self.detector.routine_overrules.get(source)
        return floor is not None and routine >= floor

    def _sure(self, verdict: Verdict) -> bool:
        """The classifier alone is sure enough of a reason that otherwise needs the model's agreement."""
        floor = self.detector.classifier_sure_from.get(verdict.reason or "")
        return floor is not None and verdict.probabilities[verdict.reason] >= floor

    def _model_agrees(self, reason: str | None, understanding: Understanding | None) -> bool:
        """The NLU model reads the same reason, if below its own threshold and even second to another intent or under
        a "please rephrase": two readers agreeing hand off."""
        floor = self.detector.classifier_agrees_from
        if reason is None or floor is None or understanding is None:
            return False
        return any(rule.reason == reason and understanding.confidence_of(intent) >= floor
                   for intent, rule in self.model_rules.items())

    def _stuck(
        self, text: str, understanding: Understanding | None, history: Sequence[dict[str, Any]]
    ) -> Decision | None:
        signals = self.detector.signals
        intent = understanding.intent if understanding else None
        if intent in signals.misunderstood_intents and signals.misunderstood_in_a_row > 1:
            earlier = [(entry.get("understanding") or {}).get("intent") for entry in history]
            needed = signals.misunderstood_in_a_row - 1
            if len(earlier) >= needed and all(i in signals.misunderstood_intents for i in earlier[-needed:]):
                return _offer("misunderstood", f"{signals.misunderstood_in_a_row} turns not understood")
        said = _comparable(text)
        if intent not in signals.repeat_exempt_intents and len(said) >= signals.repeat_min_chars:
            for entry in list(history)[-signals.repeat_window:]:
                if _comparable(str(entry.get("text") or "")) == said:
                    return _offer("repeat", "same question asked again")
        return None


def _asks_after_a_complaint(understanding: Understanding | None) -> bool:
    """A question about an earlier complaint's progress ("where is my complaint at?") reads like a complaint to
    the classifier, but the bot answers it with the ticket's status: no person is offered for it on a guess (a
    complaint the classifier is sure of, or the lexicon hears, still hands off)."""
    return (understanding is not None and understanding.intent in STATUS_INTENTS
            and (understanding.confidence or 0.0) >= STATUS_CONFIDENCE)


def _comparable(text: str) -> str:
    """The question without punctuation, spacing or case, so "where is it??" repeats "Where is it"."""
    return "".join(ch for ch in normalise(text) if ch.isalnum())


def load_model_rules(detector: Detector) -> dict[str, ModelRule]:
    """The lexicon file's `model:` section: which intents hand off and at what confidence."""
    rules = {}
    for intent, raw in detector.model_rules.items():
        if raw.get("reason") not in REASONS:
            raise ValueError(f"model.{intent}: reason must be one of {REASONS}")
        rules[intent] = ModelRule(reason=raw["reason"], min_confidence=float(raw.get("min_confidence", 0.5)))
    return rules
