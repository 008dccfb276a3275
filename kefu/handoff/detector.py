"""The deterministic handoff safety net: a bilingual lexicon (lexicon.yml) no retraining of the model can remove."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.yml"
REASONS: tuple[str, ...] = ("safety", "complaint", "human")


class LexiconError(ValueError):
    """lexicon.yml is malformed (a bad pattern, an unknown reason); raised at load, naming the entry."""


@dataclass(frozen=True)
class Match:
    """Why the lexicon fired: the reason and the words that triggered it (shown to the agent)."""

    reason: str
    span: str


@dataclass(frozen=True)
class Signals:
    """Conversation-level thresholds read from the lexicon file."""

    repeat_window: int
    repeat_min_chars: int
    misunderstood_intents: frozenset[str]
    misunderstood_in_a_row: int
    repeat_exempt_intents: frozenset[str]
    # Earlier turns are part of the same exchange only this recently: asking "where is my order" again
    # tomorrow is checking on it, not being stuck with the bot.
    session_gap_s: float = 1800.0


def normalise(text: str) -> str:
    """Full-width to half-width, one case, one kind of apostrophe and space: what every pattern is matched on."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return re.sub(r"\s+", " ", text).strip()


def _compile(entries: list[str], where: str) -> re.Pattern[str] | None:
    if not entries:
        return None
    for entry in entries:
        try:
            re.compile(entry)
        except re.error as error:
            raise LexiconError(f"{where}: bad pattern {entry!r}: {error}") from None
    return re.compile("|".join(f"(?:{entry})" for entry in entries), re.IGNORECASE)


class Detector:
    """Finds the most urgent handoff reason a message states, in Chinese or English; None for routine text."""

    def __init__(self, data: dict[str, Any]) -> None:
        order = data.get("order") or list(REASONS)
        unknown = set(order) - set(REASONS)
        if unknown:
            raise LexiconError(f"order: unknown reasons {sorted(unknown)}; expected {REASONS}")
        self.order: tuple[str, ...] = tuple(order)
        self.priorities: dict[str, str] = dict(data.get("priorities") or {})
        self._patterns: dict[str, re.Pattern[str] | None] = {}
        self._ignore: dict[str, re.Pattern[str] | None] = {}
        for reason in self.order:
            entry = (data.get("reasons") or {}).get(reason) or {}
            self._patterns[reason] = _compile(list(entry.get("patterns") or []), f"reasons.{reason}.patterns")
            self._ignore[reason] = _compile(list(entry.get("ignore") or []), f"reasons.{reason}.ignore")
        # The model's intents and thresholds; HandoffPolicy reads them (one data file for the whole policy).
        self.model_rules: dict[str, dict[str, Any]] = dict(data.get("model") or {})
        # The reasons the learned classifier may hand off on its own; for the others it only offers a person.
        hands_off = set((data.get("classifier") or {}).get("hand_off", REASONS))
        if hands_off - set(REASONS):
            raise LexiconError(f"classifier.hand_off: unknown reasons {sorted(hands_off - set(REASONS))}")
        self.classifier_hands_off: frozenset[str] = frozenset(hands_off)
        agrees = (data.get("classifier") or {}).get("model_agrees_from")
        self.classifier_agrees_from: float | None = None if agrees is None else float(agrees)
        # A reason that needs the model's agreement hands off without it when the classifier is at least this sure.
        sure = (data.get("classifier") or {}).get("sure_from") or {}
        self.classifier_sure_from: dict[str, float] = {str(k): float(v) for k, v in sure.items()}
        if set(self.classifier_sure_from) - set(REASONS):
            raise LexiconError(f"classifier.sure_from: unknown reasons {sorted(set(self.classifier_sure_from) - set(REASONS))}")
        # When the classifier is this sure a turn is routine, a lexicon complaint word or the NLU model's safety or
        # complaint intent only offers a person ("how does your complaints process work?" names a complaint, makes none).
        overrules = (data.get("classifier") or {}).get("routine_overrules") or {}
        self.routine_overrules: dict[str, float] = {str(k): float(v) for k, v in overrules.items()}
        if set(self.routine_overrules) - {"lexicon", "model"}:
            raise LexiconError("classifier.routine_overrules: only `lexicon` and `model` can be overruled")
        # A request for a person taken back while still queued ("never mind, found it"): the bot answers again.
        self._withdraw = _compile(list((data.get("withdraw") or {}).get("patterns") or []), "withdraw.patterns")
        raw = data.get("signals") or {}
        self.signals = Signals(
            repeat_window=int(raw.get("repeat_window", 4)),
            repeat_min_chars=int(raw.get("repeat_min_chars", 6)),
            misunderstood_intents=frozenset(raw.get("misunderstood_intents") or ["nlu_fallback"]),
            misunderstood_in_a_row=int(raw.get("misunderstood_in_a_row", 2)),
            repeat_exempt_intents=frozenset(raw.get("repeat_exempt_intents") or []),
            session_gap_s=float(raw.get("session_gap_s", 1800)),
        )

    @classmethod
    def from_file(cls, path: Path = LEXICON_PATH) -> Detector:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def match(self, reason: str, text: str) -> Match | None:
        """Whether text states this reason (after removing the reason's routine phrases)."""
        pattern = self._patterns.get(reason)
        if pattern is None:
            return None
        cleaned = normalise(text)
        ignore = self._ignore.get(reason)
        if ignore is not None:
            cleaned = ignore.sub(" ", cleaned)
        found = pattern.search(cleaned)
        return Match(reason, found.group(0)) if found else None

    def withdraws(self, text: str) -> bool:
        """Whether the customer takes back their request for a person (lexicon.yml ``withdraw``) and says nothing
        else a person is needed for ("never mind, this is useless" is not taking it back)."""
        if self._withdraw is None or self._withdraw.search(normalise(text)) is None:
            return False
        rest = self._withdraw.sub(" ", normalise(text))
        return not any(self.match(reason, rest) for reason in self.order)


@cache
def default_detector() -> Detector:
    """The shipped lexicon, loaded once."""
    return Detector.from_file()
