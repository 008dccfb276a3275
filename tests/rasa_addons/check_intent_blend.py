"""Runs inside .venv-rasa (Rasa 3.6): the blended intent classifier as Rasa trains, stores and loads it.
Prints one JSON line of results. Used by tests/rasa_project/test_intent_blend.py."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_addons.intent_blend import BlendedIntentClassifier

TRAINING = {
    "order_status": ["where is my parcel", "has my order shipped yet", "track my package", "我的快递到哪了",
                     "订单什么时候发货", "物流怎么不动了"],
    "refund": ["i want my money back", "please refund this order", "when will i get the refund", "我要退款",
               "退款什么时候到账", "钱怎么还没退回来"],
    "invoice": ["i need an invoice", "send me the receipt for my order", "the invoice has the wrong name",
                "帮我开张发票", "发票抬头写错了", "能开增值税发票吗"],
}


def ranked(message: Message) -> dict[str, float]:
    return {r["name"]: r["confidence"] for r in message.get(INTENT_RANKING_KEY)}


def main(storage_dir: str) -> None:
    context = ExecutionContext(GraphSchema({}), "test")
    storage = LocalModelStorage(Path(storage_dir))
    config = {**BlendedIntentClassifier.get_default_config(), "diet_weight": 0.3}
    classifier = BlendedIntentClassifier.create(config, storage, Resource("blend"), context)
    examples = [Message(data={TEXT: text, INTENT: intent}) for intent, texts in TRAINING.items() for text in texts]
    resource = classifier.train(TrainingData(training_examples=examples))
    loaded = BlendedIntentClassifier.load(config, storage, resource, context)

    unseen = {"could you tell me where my package is now": "order_status", "我的包裹现在在哪里": "order_status",
              "return the money to my card please": "refund", "把钱退给我": "refund",
              "i need a receipt with my company name": "invoice", "请给我开发票": "invoice"}
    # what DIET said, as the pipeline leaves it: a confident, wrong reading for every sentence
    diet = [{"name": "invoice", "confidence": 0.6}, {"name": "refund", "confidence": 0.3},
            {"name": "order_status", "confidence": 0.1}]
    messages = [Message(data={TEXT: t, INTENT: dict(diet[0]), INTENT_RANKING_KEY: [dict(r) for r in diet]})
                for t in unseen]
    loaded.process(messages)
    alone = BlendedIntentClassifier.load({**config, "diet_weight": 0.0}, storage, resource, context)
    plain = [Message(data={TEXT: t}) for t in unseen]
    alone.process(plain)
    weighted_ok = all(
        abs(ranked(m)[name] - (0.3 * {r["name"]: r["confidence"] for r in diet}.get(name, 0.0)
                               + 0.7 * ranked(p)[name])) < 1e-6
        for m, p in zip(messages, plain) for name in TRAINING)
    diet_only = BlendedIntentClassifier.load({**config, "diet_weight": 1.0}, storage, resource, context)
    kept = [Message(data={TEXT: "where is my parcel", INTENT: dict(diet[0]),
                          INTENT_RANKING_KEY: [dict(r) for r in diet]})]
    diet_only.process(kept)
    empty = Message(data={TEXT: "", INTENT: dict(diet[0]), INTENT_RANKING_KEY: [dict(r) for r in diet]})
    loaded.process([empty])
    untrained = BlendedIntentClassifier.load(config, storage, Resource("never-trained"), context)
    untouched = Message(data={TEXT: "where is my parcel", INTENT: dict(diet[0])})
    untrained.process([untouched])
    errors = []
    for bad in ({"encoders": ["bert"]}, {"diet_weight": 1.5}, {"encoders": [], "char_ngrams": []}):
        try:
            BlendedIntentClassifier.create({**config, **bad}, storage, Resource("bad"), context)
            errors.append(None)
        except InvalidConfigException as exc:
            errors.append(str(exc))
    print(json.dumps({
        "regression_alone": {t: m.get(INTENT)["name"] for t, m in zip(unseen, plain)},
        "blended": {t: m.get(INTENT)["name"] for t, m in zip(unseen, messages)},
        "expected": unseen,
        "sums": [round(sum(ranked(m).values()), 4) for m in messages],
        "weighted_ok": weighted_ok,
        "diet_only": kept[0].get(INTENT),
        "empty_intent": empty.get(INTENT),
        "untrained_intent": untouched.get(INTENT),
        "config_errors": errors,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
