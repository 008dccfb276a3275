"""The learned handoff classifier: safety / complaint / human / routine, from the turn and the turns before it.

Features are the sentence embedding of the customer's current turn (kefu/handoff/encoder.py) beside the mean
embedding of their previous ``CONTEXT_TURNS`` turns, so a story told in pieces ("the heater I bought" … "it went
black and smells") or a bare "still nothing" after a broken promise is read with what came before. Two readers map
them to the four labels and their probabilities are averaged: a multinomial logistic regression and a network with
one hidden layer (numpy both). The network reads combinations a linear model cannot (a promise *and* a date gone
by, a product *and* a symptom): on held-out set B, at the threshold where both hand off 2 of 75 routine cases, the
pair finds 94.5 % of complaints and 90 % of safety reports, the regression alone 83.6 % and 81.7 %. Each handoff reason has its own probability threshold,
chosen from a precision/recall table on held-back folds of the training data (kefu/handoff/training.py).

The artifact is small (``models/handoff-<fingerprint>.npz``) and named by a fingerprint of its training data and
of the code that builds it, so it is rebuilt exactly when those change (``python -m kefu setup``/``train``).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kefu.config.settings import PROJECT_ROOT
from kefu.handoff import encoder

LABELS: tuple[str, ...] = ("routine", "safety", "complaint", "human")
# Handoff reasons in the order they win: safety over everything, then a complaint, then a request for a person.
REASON_ORDER: tuple[str, ...] = ("safety", "complaint", "human")
CONTEXT_TURNS = 3
DATA_DIR = PROJECT_ROOT / "data" / "handoff"
MODELS_DIR = PROJECT_ROOT / "models"
_CODE = [Path(__file__), Path(__file__).with_name("training.py"), Path(__file__).with_name("encoder.py")]


def features(current: np.ndarray, context: np.ndarray) -> np.ndarray:
    """One row per turn: its embedding, the mean of its context's embeddings (zeros without context), and a
    flag saying whether there was any context."""
    current = np.atleast_2d(current)
    context = np.atleast_2d(context)
    has = (np.abs(context).sum(axis=1, keepdims=True) > 0).astype(np.float32)
    return np.hstack([current, context, has]).astype(np.float32)


def context_vectors(turns: Sequence[Sequence[str]]) -> np.ndarray:
    """The mean embedding of each list of earlier turns (the last CONTEXT_TURNS of them)."""
    out = np.zeros((len(turns), encoder.DIM), dtype=np.float32)
    flat = [(row, text) for row, texts in enumerate(turns) for text in list(texts)[-CONTEXT_TURNS:] if text.strip()]
    if flat:
        vectors = encoder.embed([text for _, text in flat])
        counts = np.zeros(len(turns), dtype=np.float32)
        for (row, _), vector in zip(flat, vectors):
            out[row] += vector
            counts[row] += 1
        out[counts > 0] /= counts[counts > 0, None]
    return out


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Verdict:
    """The classifier's reading of one turn: the probability of each label, the reason that passed its handoff
    threshold (None: the bot answers), and the reason that passed its offer threshold (when the turn is not handed
    off, the bot answers and asks whether the customer wants a person)."""

    probabilities: dict[str, float]
    reason: str | None
    offer: str | None = None

    @property
    def evidence(self) -> str:
        label = self.reason or self.offer or max(self.probabilities, key=self.probabilities.__getitem__)
        return f"classifier {label} {self.probabilities[label]:.2f}"


@dataclass(frozen=True)
class HiddenLayer:
    """The second reader: rows → ReLU(rows·inner + inner_bias) → softmax(·outer + outer_bias)."""

    inner: np.ndarray
    inner_bias: np.ndarray
    outer: np.ndarray
    outer_bias: np.ndarray

    FIELDS = ("inner", "inner_bias", "outer", "outer_bias")

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        return softmax(np.maximum(rows @ self.inner + self.inner_bias, 0.0) @ self.outer + self.outer_bias)

    def arrays(self) -> dict[str, np.ndarray]:
        return {f"hidden_{name}": np.asarray(getattr(self, name), dtype=np.float32)
                for name in self.FIELDS}

    @classmethod
    def from_arrays(cls, stored: np.lib.npyio.NpzFile) -> HiddenLayer | None:
        """None for an artifact from before the second reader (the regression alone reads it)."""
        if "hidden_inner" not in stored.files:
            return None
        return cls(*(stored[f"hidden_{name}"] for name in cls.FIELDS))


class HandoffClassifier:
    """The two readers and per-reason thresholds; ``read`` turns a turn and its context into a Verdict."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, thresholds: dict[str, float],
                 table: dict | None = None, hidden: HiddenLayer | None = None) -> None:
        self.weights = weights.astype(np.float32)
        self.bias = bias.astype(np.float32)
        self.hidden = hidden
        self.thresholds = dict(thresholds)
        self.table = table or {}
        # Without offer thresholds (an older artifact) a person is offered from the handoff thresholds.
        self.offer_thresholds = {r: float(t) for r, t in
                                 (self.table.get("offer_thresholds") or self.thresholds).items()}

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        linear = softmax(rows @ self.weights + self.bias)
        return linear if self.hidden is None else (linear + self.hidden.probabilities(rows)) / 2

    def reason_for(self, probabilities: dict[str, float], thresholds: dict[str, float] | None = None) -> str | None:
        """The first reason, safety first, whose probability reaches its threshold."""
        thresholds = thresholds or self.thresholds
        return next((r for r in REASON_ORDER if probabilities[r] >= thresholds[r]), None)

    def read_many(self, turns: Sequence[str], contexts: Sequence[Sequence[str]]) -> list[Verdict]:
        rows = features(encoder.embed(list(turns)), context_vectors(contexts))
        verdicts = []
        for row in self.probabilities(rows):
            probabilities = {label: float(p) for label, p in zip(LABELS, row)}
            reason = self.reason_for(probabilities)
            offer = self.reason_for(probabilities, self.offer_thresholds)
            verdicts.append(Verdict(probabilities, reason, offer))
        return verdicts

    def read(self, text: str, previous: Sequence[str] = ()) -> Verdict:
        """previous: the customer's earlier turns in this conversation, oldest first."""
        return self.read_many([text], [list(previous)])[0]

    # -- the artifact --------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Written to a temporary file and renamed, so a process loading it never sees half a file."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".npz")
        os.close(handle)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; the artifact is as readable as the Rasa model
        hidden = self.hidden.arrays() if self.hidden is not None else {}
        np.savez(temporary, weights=self.weights, bias=self.bias, labels=np.array(LABELS),
                 thresholds=json.dumps(self.thresholds), table=json.dumps(self.table), **hidden)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> HandoffClassifier:
        with np.load(path, allow_pickle=False) as stored:
            if tuple(str(label) for label in stored["labels"]) != LABELS:
                raise ValueError(f"{path}: labels {list(stored['labels'])} are not {list(LABELS)}")
            return cls(stored["weights"], stored["bias"], json.loads(str(stored["thresholds"])),
                       json.loads(str(stored["table"])), HiddenLayer.from_arrays(stored))


def data_files(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted(data_dir.glob("*.yml"))


def fingerprint(data_dir: Path = DATA_DIR) -> str:
    """Of the training data and the code that turns it into weights: either changing means a new artifact."""
    digest = hashlib.sha256()
    for path in [*data_files(data_dir), *_CODE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def artifact_path(data_dir: Path = DATA_DIR, models_dir: Path = MODELS_DIR) -> Path:
    return models_dir / f"handoff-{fingerprint(data_dir)}.npz"
