"""Runs inside .venv-rasa (Rasa 3.6): the featurizer as Rasa runs it. Prints one JSON line of results.

Used by tests/rasa_project/test_sentence_encoder.py (the test suite itself runs on .venv's Python)."""
from __future__ import annotations

import json
import sys
import time

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons import sentence_encoder
from rasa_addons.sentence_encoder import BilingualSentenceFeaturizer


def main(encoder: str, storage_dir: str) -> None:
    config = {**BilingualSentenceFeaturizer.get_default_config(), "encoder": encoder}
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(storage_dir)
    started = time.perf_counter()
    featurizer = BilingualSentenceFeaturizer.create(config, storage, Resource("enc"), context)
    load_s = time.perf_counter() - started
    # a second instance reuses the process's encoder
    started = time.perf_counter()
    BilingualSentenceFeaturizer.create(config, storage, Resource("enc2"), context)
    second_load_s = time.perf_counter() - started

    pairs = [("我的快递到哪了", "where is my parcel"), ("我要退款", "I want my money back"),
             ("帮我取消这个订单", "please cancel this order"),
             ("充电器冒烟了还烫伤了我的手", "the charger smoked and burned my hand")]
    unrelated = [("我的快递到哪了", "do you sell running shoes in red"),
                 ("我要退款", "the weather is lovely today"),
                 ("帮我取消这个订单", "my dog loves the park")]
    texts = ["", "   ", "退款" * 20000, "x" * 50000] + [t for pair in pairs + unrelated for t in pair]
    messages = [Message(data={TEXT: t}) for t in texts]
    started = time.perf_counter()
    featurizer.process(messages)
    batch_s = time.perf_counter() - started
    training = TrainingData(training_examples=[Message(data={TEXT: "发票开错了", "intent": "invoice"}),
                                               Message(data={TEXT: "wrong invoice", "intent": "invoice"})])
    featurizer.process_training_data(training)
    trained_shapes = [list(m.get_dense_features(TEXT)[1].features.shape) for m in training.training_examples]
    shapes, finite, vectors = [], True, []
    for message in messages:
        seq, sent = message.get_dense_features(TEXT)
        shapes.append([None if seq is None else list(seq.features.shape), list(sent.features.shape)])
        finite = finite and bool(np.isfinite(sent.features).all())
        vectors.append(sent.features[0])

    def cos(a, b):
        na, nb = np.linalg.norm(a), np.linalg.norm(b)
        return float(a @ b / (na * nb)) if na and nb else 0.0

    offset = 4
    para = [cos(vectors[offset + 2 * i], vectors[offset + 2 * i + 1]) for i in range(len(pairs))]
    offset += 2 * len(pairs)
    unrel = [cos(vectors[offset + 2 * i], vectors[offset + 2 * i + 1]) for i in range(len(unrelated))]
    small_cache = _small_cache_report(encoder, texts[4:])
    # process() on a served message
    live = Message(data={TEXT: "订单什么时候发货"})
    featurizer.process([live])
    print(json.dumps({
        "dim": sentence_encoder.DIMENSIONS[encoder], "shapes": shapes, "finite": finite,
        "empty_norm": float(np.linalg.norm(vectors[0])), "long_norm": float(np.linalg.norm(vectors[2])),
        "paraphrase": para, "unrelated": unrel, "load_s": load_s, "second_load_s": second_load_s,
        "batch_s": batch_s, "live_shape": list(live.get_dense_features(TEXT)[1].features.shape),
        "loaded_encoders": len(sentence_encoder._loaded), "trained_shapes": trained_shapes, **small_cache,
    }))


def _small_cache_report(encoder: str, texts: list[str]) -> dict:
    """More texts in one call than the cache holds (training): each text is embedded once, the same vectors."""
    key = next(k for k in sentence_encoder._loaded if k[0] == encoder)
    model, embedded = sentence_encoder._loaded[key], []
    sentence_encoder._loaded[key] = lambda batch: (embedded.extend(batch), model(batch))[1]
    try:
        reference = sentence_encoder.SentenceEncoder(encoder, max_chars=300, cache_size=100).encode(texts)
        embedded.clear()
        results = {size: sentence_encoder.SentenceEncoder(encoder, max_chars=301, cache_size=size).encode(texts)
                   for size in (0, 2)}
    finally:
        sentence_encoder._loaded[key] = model
    return {"small_cache_embedded": len(embedded), "small_cache_texts": 2 * len(set(texts)),
            "small_cache_same": all(bool(np.allclose(v, reference, atol=1e-5)) for v in results.values())}


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
