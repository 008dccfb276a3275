"""Which encoder carries more meaning: logistic regression on each encoder's sentence vectors alone,
trained on data/nlu, scored (aggregates only) on the outside sets. .venv-rasa/bin/python bench/nlu/probe_encoders.py"""
import csv, json, sys, time
from pathlib import Path
import numpy as np
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "nlu"))
from score import BITEXT, HINT3, ORDER_TOPICS, HANDOFF, EVAL
from rasa.shared.nlu.training_data.loading import load_data
from sklearn.linear_model import LogisticRegression
from rasa_addons.sentence_encoder import SentenceEncoder

train = load_data(str(ROOT / "data" / "nlu")).intent_examples
X_text = [m.get("text") for m in train]; y = [m.get("intent") for m in train]
bitext = [r for r in csv.DictReader(open(EVAL / "bitext" / "bitext_sample.csv")) if r["intent"] in BITEXT]
hint = list(csv.DictReader(open(EVAL / "hint3" / "curekart_test.csv")))
jddc = [json.loads(l) for l in open(EVAL / "jddc" / "sessions.jsonl")]
jt = [(t, l) for s in jddc for t, l in zip(s["turns"], s["turn_labels"]) if l.startswith(("IN:", "OOS:"))]
for name in sys.argv[1:] or ["use", "e5"]:
    enc = SentenceEncoder(name)
    t = time.time(); X = enc.encode(X_text); t_train = time.time() - t
    clf = LogisticRegression(C=10, max_iter=2000).fit(X, y)
    def pred(texts):
        P = clf.predict_proba(enc.encode(texts)); return [(clf.classes_[i], P[k, i]) for k, i in enumerate(P.argmax(1))]
    res = {}
    p = pred([r["sentence"] for r in bitext])
    topic = [(BITEXT[r["intent"]], q) for r, q in zip(bitext, p)]
    res["bitext topic"] = np.mean([q[0] in k[1] for k, q in topic if k[0] == "topic"])
    res["bitext handoff"] = np.mean([q[0] in HANDOFF and q[1] >= .8 for k, q in topic if k[0] == "handoff"])
    res["bitext oos kept"] = np.mean([q[0] not in ORDER_TOPICS and q[0] not in HANDOFF for k, q in topic if k[0] == "oos"])
    p = pred([r["sentence"] for r in hint])
    res["hint3 topic"] = np.mean([q[0] in HINT3[r["label"].strip()] for r, q in zip(hint, p) if r["label"].strip() in HINT3])
    res["hint3 oos kept"] = np.mean([q[0] not in ORDER_TOPICS for r, q in zip(hint, p) if r["label"].strip() not in HINT3 and r["label"].strip() != "CHAT_WITH_AGENT"])
    p = pred([t for t, _ in jt])
    res["jddc in"] = np.mean([q[0] in set(l[3:].split("|")) for (t, l), q in zip(jt, p) if l.startswith("IN:")])
    res["jddc oos as order"] = np.mean([q[0] in ORDER_TOPICS for (t, l), q in zip(jt, p) if l.startswith("OOS:")])
    print(name, f"encode train {t_train:.1f}s", {k: round(100 * v, 1) for k, v in res.items()})
