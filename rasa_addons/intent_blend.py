"""A second intent reader beside DIET, blended with it (README, "NLU pipeline"; issue 10).

DIET learns the training sentences' words very well and generalises less to phrasings nobody wrote;
a class-balanced logistic regression on the pretrained sentence embedding plus character n-grams does
the opposite (bench/nlu/probe_classifier.py: +10 points on real JD.com turns, +5 on HINT3, -9 on Bitext
topics). Mixed, the two keep most of both. This component runs after DIET and before the
FallbackClassifier: it trains its own regression on the same training data, and at parse time replaces
the message's intent and ranking by ``diet_weight * DIET + (1 - diet_weight) * regression``, so the
fallback threshold and the handoff thresholds read the blended confidence.
"""
from __future__ import annotations

import logging
from typing import Any

import joblib
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.sentence_encoder import ENCODERS, SentenceEncoder, load_encoder

logger = logging.getLogger(__name__)

ARTIFACT = "intent_blend.joblib"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class BlendedIntentClassifier(IntentClassifier, GraphComponent):
    """Logistic regression on sentence embeddings + char n-grams, mixed with the intent DIET gave."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "encoders": ["use"],  # any of ENCODERS; each adds its unit vector to the features
            "char_ngrams": [1, 4],  # char_wb TF-IDF n-gram range; [] for none
            "C": 4.0,  # inverse regularisation of the regression
            "diet_weight": 0.3,  # share of DIET's ranking in the blend (0: the regression alone)
            "ranking_length": 10,
            "threads": 1,
            "max_chars": 512,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "joblib"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        unknown = [name for name in config.get("encoders", []) if name not in ENCODERS]
        if unknown:
            raise InvalidConfigException(f"encoders must be among {ENCODERS}, not {unknown}")
        if not 0.0 <= float(config.get("diet_weight", 0.0)) <= 1.0:
            raise InvalidConfigException("diet_weight must be between 0 and 1")
        if not config.get("encoders") and not config.get("char_ngrams"):
            raise InvalidConfigException("give at least one of encoders or char_ngrams")

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 vectorizer: Any = None, regression: Any = None) -> None:
        self.validate_config(config)
        self._config = config
        self._model_storage, self._resource = model_storage, resource
        self.vectorizer, self.regression = vectorizer, regression
        self.encoders = [SentenceEncoder(name, threads=int(config["threads"]),
                                         max_chars=int(config["max_chars"])) for name in config["encoders"]]
        self.diet_weight = float(config["diet_weight"])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> BlendedIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> BlendedIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                saved = joblib.load(directory / ARTIFACT)
        except (ValueError, FileNotFoundError):
            logger.warning("no trained %s in the model: DIET's intents are used as they are", cls.__name__)
            return cls(config, model_storage, resource)
        classifier = cls(config, model_storage, resource, saved["vectorizer"], saved["regression"])
        for encoder in classifier.encoders:  # weights now, once per process, not on the first message
            load_encoder(encoder.encoder, encoder.threads)
        return classifier

    def _features(self, texts: list[str]) -> Any:
        from scipy import sparse

        parts = [sparse.csr_matrix(encoder.encode(texts)) for encoder in self.encoders]
        if self.vectorizer is not None:
            parts.append(self.vectorizer.transform(texts))
        return sparse.hstack(parts).tocsr()

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        texts, intents = [m.get(TEXT) for m in examples], [m.get(INTENT) for m in examples]
        if len(set(intents)) < 2:
            logger.warning("%s needs two intents or more to learn: skipped", type(self).__name__)
            return self._resource
        ngrams = self._config.get("char_ngrams") or []
        if ngrams:
            self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(ngrams),
                                              sublinear_tf=True, lowercase=True)
            self.vectorizer.fit(texts)
        self.regression = LogisticRegression(C=float(self._config["C"]), max_iter=3000,
                                             class_weight="balanced")
        self.regression.fit(self._features(texts), intents)
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump({"vectorizer": self.vectorizer, "regression": self.regression}, directory / ARTIFACT)
        return self._resource

    def process(self, messages: list[Message]) -> list[Message]:
        targets = [m for m in messages if m.get(TEXT) and self.regression is not None]
        if not targets:
            return messages
        probabilities = self.regression.predict_proba(self._features([m.get(TEXT) for m in targets]))
        for message, row in zip(targets, probabilities):
            self._blend(message, dict(zip(self.regression.classes_, row)))
        return messages

    def _blend(self, message: Message, regression: dict[str, float]) -> None:
        diet = {r["name"]: float(r.get("confidence") or 0.0)
                for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name")}
        if not diet and (message.get(INTENT) or {}).get("name"):
            diet = {message.get(INTENT)["name"]: float(message.get(INTENT).get("confidence") or 0.0)}
        weight = self.diet_weight if diet else 0.0
        mixed = {name: weight * diet.get(name, 0.0) + (1 - weight) * float(regression.get(name, 0.0))
                 for name in set(diet) | set(regression)}
        ranking = sorted(mixed.items(), key=lambda item: item[1], reverse=True)
        ranking = [{"name": str(name), "confidence": float(conf)} for name, conf in ranking]
        message.set(INTENT, ranking[0], add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking[: int(self._config["ranking_length"])], add_to_output=True)
