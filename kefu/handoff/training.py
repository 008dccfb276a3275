"""Training the handoff classifier from data/handoff/, and choosing its thresholds by measurement.

The data is written per category (safety.yml, complaint.yml, human.yml, routine.yml: ``categories: {name:
{zh: [...], en: [...]}}``) and as conversations (dialogues.yml: ``dialogues: [{reason, turns}]``, the last turn
being the one labelled). Each single turn is also learned behind two unrelated routine turns (context that must
not change the answer), and each safety or complaint turn also as the context of a short follow-up ("what now?",
an order number), which keeps the conversation's reason; the follow-ups alone, or after routine turns, are routine.

Thresholds: five folds, grouped so a sentence and its variants stay in one fold, give every original example a
probability from a model that never saw it; per reason, the lowest threshold whose false handoffs of routine
turns stay within that reason's budget wins (a missed safety report costs more than a complaint offered a
person). The final weights are trained on everything. About a minute on two cores, most of it embedding the sentences.
"""
from __future__ import annotations

import logging
import random
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from kefu.handoff import encoder
from kefu.handoff.classifier import (
    DATA_DIR,
    LABELS,
    MODELS_DIR,
    REASON_ORDER,
    HandoffClassifier,
    HiddenLayer,
    artifact_path,
    context_vectors,
    data_files,
    features,
    softmax,
)

log = logging.getLogger(__name__)

FOLDS = 5
GRID = tuple(round(0.05 * step, 2) for step in range(1, 20))
# Routine turns a reason may wrongly hand off: the mean, over data/handoff's routine files, of the share of each
# file's turns (held back in folds) handed off. Each file is one kind of routine message (hazard product names,
# the word "complaint", idioms, long detailed stories, everyday chat), so a new file of easy turns moves the mean by
# its one file's weight and does not loosen the thresholds the way a share of the pooled turns did (400 detailed
# routine stories lowered safety's threshold from 0.60 to 0.45). Most files are written to be mistaken, far more
# than a shop's real traffic is, so the budget is larger than the false handoffs wanted in service. The operating
# point was chosen on held-out set B (2-3 false handoffs of its 75 routine cases) and on the routine sessions of
# JDDC read without the NLU model; a complaint also needs the NLU model's agreement (lexicon.yml `classifier:`).
# Two more easy routine files (batch 9) lowered the mean and with it safety's threshold to 0.55 (offers 0.35) with
# no safety recall gained on held-out sets A-C, so safety's budgets are 1.6 % / 2.4 % (thresholds 0.60 / 0.40 again).
FALSE_BUDGET = {"safety": 0.016, "complaint": 0.038, "human": 0.007}
# From its offer threshold a reason *offers* a person ("shall I ask a colleague?", one tap) when it does not hand
# off: below the handoff threshold, or (complaint, person) without the NLU model's agreement. A guess costs the
# customer a question, not a place in the queue, so the budget for safety and person is larger; complaint's is
# smaller, because on real marketplace sessions (JDDC) the classifier reads complaint in many routine turns and an
# offer there is a question nobody asked for (65 of 449 routine turns at 0.6, 27 at 0.8).
OFFER_BUDGET = {"safety": 0.024, "complaint": 0.009, "human": 0.018}
HIDDEN_WIDTH = 128
FOLLOW_UPS = {
    "zh": ["现在怎么办", "你们怎么处理", "所以呢", "还在吗", "订单号DD20261104008", "我该怎么做", "请尽快回复"],
    "en": ["what now", "what are you going to do about it", "so?", "hello?", "order DD20261104014",
           "what should I do", "please reply quickly"],
}


class HandoffDataError(ValueError):
    """A data/handoff file is malformed; raised while loading, naming the file and entry."""


@dataclass(frozen=True)
class Example:
    text: str
    context: tuple[str, ...]
    label: str
    group: str
    lang: str
    original: bool = True


def _lang(text: str) -> str:
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


def load_examples(data_dir: Path = DATA_DIR) -> list[Example]:
    examples: list[Example] = []
    for path in data_files(data_dir):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if "categories" in raw:
            label = raw.get("reason")
            if label not in LABELS:
                raise HandoffDataError(f"{path.name}: reason must be one of {LABELS}, not {label!r}")
            for category, by_lang in (raw["categories"] or {}).items():
                for lang, texts in (by_lang or {}).items():
                    for number, text in enumerate(texts or []):
                        if not isinstance(text, str) or not text.strip():
                            raise HandoffDataError(f"{path.name}: {category}.{lang}[{number}] is not a sentence")
                        examples.append(Example(text.strip(), (), label, f"{path.stem}:{category}:{lang}:{number}",
                                                lang))
        for number, dialogue in enumerate(raw.get("dialogues") or []):
            turns = [str(turn) for turn in dialogue.get("turns") or []]
            if dialogue.get("reason") not in LABELS or not turns:
                raise HandoffDataError(f"{path.name}: dialogues[{number}] needs a reason in {LABELS} and turns")
            examples.append(Example(turns[-1], tuple(turns[:-1]), dialogue["reason"], f"{path.stem}:{number}",
                                    _lang(" ".join(turns))))
    if {e.label for e in examples} != set(LABELS):
        raise HandoffDataError(f"{data_dir}: every label needs examples, found {sorted({e.label for e in examples})}")
    return examples


def augment(examples: Sequence[Example], seed: int = 0) -> list[Example]:
    """The originals, plus each single turn behind routine context, plus follow-ups of safety and complaints."""
    rng = random.Random(seed)
    routine = [e.text for e in examples if e.label == "routine" and not e.context]
    out = list(examples)
    for example in examples:
        if example.context:
            continue
        out.append(Example(example.text, tuple(rng.sample(routine, 2)), example.label, example.group,
                           example.lang, original=False))
        if example.label in ("safety", "complaint"):
            out.append(Example(rng.choice(FOLLOW_UPS[example.lang]), (example.text,), example.label, example.group,
                               example.lang, original=False))
    # The same follow-ups alone, or after routine turns, are routine: what makes them urgent is what came before.
    for lang, follow_ups in FOLLOW_UPS.items():
        for number, text in enumerate(follow_ups):
            group = f"follow-up:{lang}:{number}"
            out.append(Example(text, (), "routine", group, lang, original=False))
            out.append(Example(text, tuple(rng.sample(routine, 2)), "routine", group, lang, original=False))
    return out


def matrix(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray]:
    rows = features(encoder.embed([e.text for e in examples]), context_vectors([e.context for e in examples]))
    return rows, np.array([LABELS.index(e.label) for e in examples])


def _balanced(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-hot targets and per-row weights that give every class the same total weight."""
    k = len(LABELS)
    counts = np.bincount(labels, minlength=k).astype(np.float32)
    sample_weight = (len(labels) / (k * np.maximum(counts, 1)))[labels][:, None]
    return np.eye(k, dtype=np.float32)[labels], sample_weight


class _Adam:
    """Full-batch Adam over a list of arrays, updated in place."""

    def __init__(self, params: list[np.ndarray], rate: float) -> None:
        self.params, self.rate, self.step = params, rate, 0
        self.moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]

    def update(self, grads: Sequence[np.ndarray]) -> None:
        self.step += 1
        for param, grad, (first, second) in zip(self.params, grads, self.moments):
            first[:] = 0.9 * first + 0.1 * grad
            second[:] = 0.999 * second + 0.001 * grad * grad
            param -= self.rate * (first / (1 - 0.9 ** self.step)) / (np.sqrt(second / (1 - 0.999 ** self.step)) + 1e-8)


def fit(rows: np.ndarray, labels: np.ndarray, epochs: int = 200, rate: float = 0.1,
        l2: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, classes weighted to balance, full-batch Adam."""
    n, d = rows.shape
    targets, sample_weight = _balanced(labels)
    weights = np.zeros((d, len(LABELS)), dtype=np.float32)
    bias = np.zeros(len(LABELS), dtype=np.float32)
    adam = _Adam([weights, bias], rate)
    for _ in range(epochs):
        error = (softmax(rows @ weights + bias) - targets) * sample_weight / n
        adam.update((rows.T @ error + l2 * weights, error.sum(axis=0)))
    return weights, bias


def fit_hidden(rows: np.ndarray, labels: np.ndarray, width: int = HIDDEN_WIDTH, epochs: int = 200,
               rate: float = 0.004, l2: float = 1e-4, dropout: float = 0.3, seed: int = 0) -> HiddenLayer:
    """One ReLU layer with dropout, classes weighted to balance, full-batch Adam; seeded, so the same data gives
    the same artifact."""
    rng = np.random.default_rng(seed)
    n, d = rows.shape
    k = len(LABELS)
    targets, sample_weight = _balanced(labels)
    params = [(rng.standard_normal((d, width)) * np.sqrt(2 / d)).astype(np.float32), np.zeros(width, np.float32),
              (rng.standard_normal((width, k)) * np.sqrt(1 / width)).astype(np.float32), np.zeros(k, np.float32)]
    inner, inner_bias, outer, outer_bias = params
    adam = _Adam(params, rate)
    keep = 1.0 - dropout
    for _ in range(epochs):
        hidden = np.maximum(rows @ inner + inner_bias, 0.0)
        mask = (rng.random(hidden.shape) < keep).astype(np.float32) / keep
        dropped = hidden * mask
        error = (softmax(dropped @ outer + outer_bias) - targets) * sample_weight / n
        back = (error @ outer.T) * mask * (hidden > 0)
        adam.update((rows.T @ back + l2 * inner, back.sum(axis=0), dropped.T @ error + l2 * outer, error.sum(axis=0)))
    return HiddenLayer(*params)


def fit_readers(rows: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, HiddenLayer]:
    """Both readers on the same rows: the regression's weights and bias, and the hidden layer."""
    weights, bias = fit(rows, labels)
    return weights, bias, fit_hidden(rows, labels)


def _fold(group: str) -> int:
    return zlib.crc32(group.encode()) % FOLDS


def held_back_probabilities(examples: Sequence[Example]) -> tuple[list[Example], np.ndarray]:
    """Each original example's probabilities from the fold model that did not train on it."""
    augmented = augment(examples)
    rows, labels = matrix(augmented)
    folds = np.array([_fold(e.group) for e in augmented])
    original = np.array([e.original for e in augmented])
    probabilities = np.zeros((len(augmented), len(LABELS)), dtype=np.float32)
    for fold in range(FOLDS):
        train, test = folds != fold, (folds == fold) & original
        weights, bias, hidden = fit_readers(rows[train], labels[train])
        probabilities[test] = HandoffClassifier(weights, bias, {}, hidden=hidden).probabilities(rows[test])
    keep = np.flatnonzero(original)
    return [augmented[i] for i in keep], probabilities[keep]


def decide(probabilities: np.ndarray, thresholds: dict[str, float]) -> list[str | None]:
    out = []
    for row in probabilities:
        named = dict(zip(LABELS, row))
        out.append(next((r for r in REASON_ORDER if named[r] >= thresholds[r]), None))
    return out


def _file_of(example: Example) -> str:
    return example.group.split(":", 1)[0]


def _mean_share(false: Counter[str], routine_files: Counter[str]) -> float:
    """The mean over routine files of the share of each file's turns handed off (see FALSE_BUDGET)."""
    if not routine_files:
        return 0.0
    return sum(false[name] / total for name, total in routine_files.items()) / len(routine_files)


def threshold_table(examples: Sequence[Example], probabilities: np.ndarray) -> dict:
    """Per reason and threshold (the earlier reasons at their chosen thresholds): precision, recall, and the
    routine turns it hands off; plus the thresholds chosen from it."""
    expected = [None if e.label == "routine" else e.label for e in examples]
    routine_total = sum(label is None for label in expected)
    routine_files = Counter(_file_of(e) for e, label in zip(examples, expected) if label is None)
    chosen = {r: 1.0 for r in REASON_ORDER}
    offer: dict[str, float] = {}
    table: dict[str, list[dict[str, float]]] = {}
    for reason in REASON_ORDER:
        rows = []
        for threshold in GRID:
            got = decide(probabilities, chosen | {reason: threshold})
            tp = sum(g == reason and e == reason for g, e in zip(got, expected))
            predicted = sum(g == reason for g in got)
            actual = sum(e == reason for e in expected)
            false = Counter(_file_of(x) for g, e, x in zip(got, expected, examples) if g == reason and e is None)
            rows.append({"threshold": threshold, "precision": tp / predicted if predicted else 1.0,
                         "recall": tp / actual if actual else 1.0, "false_handoffs": sum(false.values()),
                         "false_rate": _mean_share(false, routine_files)})
        table[reason] = rows
        within = [row for row in rows if row["false_rate"] <= FALSE_BUDGET[reason]]
        chosen[reason] = min(row["threshold"] for row in within) if within else GRID[-1]
        offering = [row["threshold"] for row in rows if row["false_rate"] <= OFFER_BUDGET[reason]]
        offer[reason] = min(offering) if offering else GRID[-1]
    return {"thresholds": chosen, "offer_thresholds": offer, "rows": table, "examples": len(examples),
            "routine": routine_total}


def train(data_dir: Path = DATA_DIR) -> HandoffClassifier:
    examples = load_examples(data_dir)
    held_back, probabilities = held_back_probabilities(examples)
    table = threshold_table(held_back, probabilities)
    weights, bias, hidden = fit_readers(*matrix(augment(examples)))
    return HandoffClassifier(weights, bias, table["thresholds"], table, hidden)


def build(data_dir: Path = DATA_DIR, models_dir: Path = MODELS_DIR, force: bool = False) -> Path:
    """Train and save the artifact unless it is up to date; older handoff artifacts are removed."""
    path = artifact_path(data_dir, models_dir)
    if path.exists() and not force:
        log.info("handoff classifier %s is up to date", path.name)
        return path
    started = time.monotonic()
    classifier = train(data_dir)
    classifier.save(path)
    log.info("trained handoff classifier %s in %.1f s, thresholds %s", path.name, time.monotonic() - started,
             classifier.thresholds)
    for old in models_dir.glob("handoff-" + "?" * 16 + ".npz"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


def load_current(data_dir: Path = DATA_DIR, models_dir: Path = MODELS_DIR) -> HandoffClassifier:
    """The artifact for the current data, built first (seconds) when `python -m kefu train` has not."""
    path = artifact_path(data_dir, models_dir)
    if not path.exists():
        log.warning("handoff classifier %s is missing: building it now", path.name)
        build(data_dir, models_dir)
    return HandoffClassifier.load(path)


def format_threshold_table(table: dict) -> str:
    lines = [f"held-back folds of data/handoff ({table['examples']} turns, {table['routine']} routine)",
             f"{'reason':<10} {'thresh':>6} {'precision':>9} {'recall':>7} {'false handoffs':>15}"]
    for reason, rows in table["rows"].items():
        for row in rows:
            mark = "  <- chosen" if row["threshold"] == table["thresholds"][reason] else ""
            if row["threshold"] == table.get("offer_thresholds", {}).get(reason) != table["thresholds"][reason]:
                mark = "  <- offers a person from here"
            lines.append(f"{reason:<10} {row['threshold']:>6.2f} {row['precision']:>9.1%} {row['recall']:>7.1%} "
                         f"{row['false_handoffs']:>6} ({row['false_rate']:>5.1%}){mark}")
    return "\n".join(lines)
