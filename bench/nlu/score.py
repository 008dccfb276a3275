"""Fast NLU loop: parse the outside eval sets with a trained model, print per-set tables.

    .venv-rasa/bin/python bench/nlu/score.py models/kefu-xxx.tar.gz [--sets bitext,jddc,hint3,handoff]
        [--heldout .kefu/nlu-split/test_data.yml] [--json out.json] [--errors 20]

Reads ../shared/eval/ only to score (labels mapped as its README says); nothing is written from it.
The handoff route is the model's handoff intent at its threshold (lexicon.yml `model:`) or the
lexicon (kefu/handoff/detector.py), as HandoffPolicy decides one turn (no conversation signals).
"""
from __future__ import annotations

import argparse
import asyncio
import csv
import importlib.util
import json
import logging
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[2]
EVAL = Path(os.environ.get("KEFU_EVAL_DIR", ROOT.parent / "shared" / "eval"))
sys.path.insert(0, str(ROOT))

ORDER_TOPICS = {"order_status", "cancel_order", "change_address", "refund", "return_exchange", "invoice"}
HANDOFF = {"safety_issue": "safety", "complaint": "complaint", "request_human": "human"}

BITEXT = {
    "track_order": ("topic", {"order_status"}),
    "cancel_order": ("topic", {"cancel_order"}),
    "change_shipping_address": ("topic", {"change_address"}),
    "get_refund": ("topic", {"refund"}),
    "track_refund": ("topic", {"refund", "ticket_status"}),
    "get_invoice": ("topic", {"invoice"}),
    "check_invoice": ("topic", {"invoice"}),
    "check_refund_policy": ("topic", {"policy"}),
    "delivery_options": ("topic", {"policy"}),
    "delivery_period": ("topic", {"policy", "order_status"}),
    "check_payment_methods": ("topic", {"policy"}),
    "check_cancellation_fee": ("topic", {"policy", "cancel_order"}),
    "complaint": ("handoff", "complaint"),
    "contact_human_agent": ("handoff", "human"),
    "contact_customer_service": ("handoff", "human"),
    **{name: ("oos", None) for name in (
        "create_account", "delete_account", "edit_account", "recover_password", "registration_problems",
        "switch_account", "newsletter_subscription", "review", "place_order")},
}
HINT3 = {"ORDER_STATUS": {"order_status"}, "DELAY_IN_PARCEL": {"order_status"}, "CANCEL_ORDER": {"cancel_order"},
         "MODIFY_ADDRESS": {"change_address"}, "REFUNDS_RETURNS_REPLACEMENTS": {"refund", "return_exchange"}}


def load_detector():
    spec = importlib.util.spec_from_file_location("kefu_detector", ROOT / "kefu" / "handoff" / "detector.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["kefu_detector"] = module
    spec.loader.exec_module(module)
    detector = module.Detector.from_file(ROOT / "kefu" / "handoff" / "lexicon.yml")
    thresholds = {intent: float(rule.get("min_confidence", 0.5)) for intent, rule in detector.model_rules.items()}
    return detector, thresholds


def quiet_logs() -> None:
    """Silence Rasa's loggers, structlog's debug lines included: they print the sentences being parsed,
    and eval sentences must never reach a terminal someone writes training data from."""
    import structlog

    logging.disable(logging.WARNING)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


class Judge:
    def __init__(self, detector, thresholds):
        self.detector, self.thresholds = detector, thresholds

    def route(self, text, intent, confidence):
        """(reason or None, source): what HandoffPolicy would do with this one turn."""
        lex = {r: self.detector.match(r, text) for r in ("safety", "complaint", "human")}
        model = HANDOFF[intent] if intent in HANDOFF and confidence >= self.thresholds.get(intent, 0.8) else None
        if lex["safety"]:
            return "safety", "lexicon"
        if model == "safety":
            return "safety", "model"
        for reason in ("complaint", "human"):
            if lex[reason]:
                return reason, "lexicon"
        return (model, "model") if model else (None, None)


class Tally:
    """Counts per metric. Examples of errors are kept only for our own sets (own=True): sentences of
    ../shared/eval/ are never printed, so nobody writes training data after them."""

    def __init__(self, title, own=False):
        self.title, self.own = title, own
        self.rows, self.errors = defaultdict(lambda: [0, 0]), defaultdict(list)

    def add(self, metric, ok, example=None):
        self.rows[metric][0] += bool(ok)
        self.rows[metric][1] += 1
        if not ok and example is not None and self.own:
            self.errors[metric].append(example)

    def table(self, errors=0):
        lines = [f"\n## {self.title}", f"{'metric':<44} {'right':>6} {'of':>6} {'rate':>7}"]
        for metric, (right, total) in self.rows.items():
            lines.append(f"{metric:<44} {right:>6} {total:>6} {right / max(total, 1):>7.1%}")
        if errors:
            for metric, examples in self.errors.items():
                for example in examples[:errors]:
                    lines.append(f"   x {metric}: {example}")
        return "\n".join(lines)

    def as_dict(self):
        return {m: {"right": r, "total": t, "rate": r / max(t, 1)} for m, (r, t) in self.rows.items()}


async def score_sets(args, parse, judge, label_confusion):
    """One pass over the chosen sets: the tallies."""
    tallies = []
    sets = set(args.sets.split(","))
    if "bitext" in sets:
        tally = Tally("Bitext (en)")
        with open(EVAL / "bitext" / "bitext_sample.csv", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                kind = BITEXT.get(row["intent"])
                if kind is None:
                    continue
                intent, conf = await parse(row["sentence"])
                reason, _ = judge.route(row["sentence"], intent, conf)
                label_confusion[row["intent"]][f"handoff:{reason}" if reason else intent] += 1
                ex = (row["intent"], intent, round(conf, 2), reason, row["sentence"][:90])
                if kind[0] == "topic":
                    tally.add("order/policy topic right", reason is None and intent in kind[1], ex)
                    tally.add("routine handed off (lower is better)", reason is not None, None)
                elif kind[0] == "handoff":
                    tally.add(f"{kind[1]} handed off", reason is not None, ex)
                    tally.add("complaint+human handed off", reason is not None, None)
                    tally.add("  ..model gives a handoff intent, any conf", intent in HANDOFF, None)
                    tally.add("  ..model gives a handoff intent, conf>=0.5", intent in HANDOFF and conf >= 0.5, None)
                else:
                    ok = reason is None and intent not in ORDER_TOPICS
                    tally.add("oos kept off orders and queue", ok, ex)
                    tally.add("routine handed off (lower is better)", reason is not None, None)
                    tally.add("  ..oos given out_of_scope or fallback", intent in ("out_of_scope", "nlu_fallback"), None)
        tallies.append(tally)
    if "jddc" in sets:
        tally = Tally("JDDC (zh, per turn)")
        with open(EVAL / "jddc" / "sessions.jsonl", encoding="utf-8") as handle:
            sessions = [json.loads(line) for line in handle if line.strip()]
        for session in sessions:
            handed = False
            for text, label in zip(session["turns"], session["turn_labels"]):
                intent, conf = await parse(text)
                reason, _ = judge.route(text, intent, conf)
                label_confusion["jddc " + label.split("|")[0]][f"handoff:{reason}" if reason else intent] += 1
                handed = handed or reason is not None
                ex = (label, intent, round(conf, 2), reason, text[:60])
                if label.startswith("IN:"):
                    allowed = set(label[3:].split("|"))
                    handoff_ok = bool(allowed & set(HANDOFF)) and reason is not None
                    tally.add("in-scope topic right", handoff_ok or (reason is None and intent in allowed), ex)
                elif label.startswith("OOS:"):
                    allowed = set(label[4:].split("|")[1:])
                    as_order = intent in ORDER_TOPICS and intent not in allowed
                    tally.add("oos answered as order topic (lower)", as_order, None)
                    if as_order:
                        pass
                elif label.startswith(("HUMAN", "COMPLAINT")):
                    tally.add("human/complaint turn handed off", reason is not None, ex)
                elif label.startswith(("C:", "AS")):
                    tally.add("conversational/AS turn handed off (lower)", reason is not None, None)
                    if reason is not None:
                        pass
            if session["handoff"] == "yes":
                tally.add("sessions needing a person handed off", handed)
            elif session["handoff"] == "no":
                tally.add("routine sessions handed off (lower)", handed, None)
        tallies.append(tally)
    if "hint3" in sets:
        tally = Tally("HINT3 Curekart test (en)")
        with open(EVAL / "hint3" / "curekart_test.csv", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                text, label = row["sentence"], row["label"].strip()
                intent, conf = await parse(text)
                reason, _ = judge.route(text, intent, conf)
                label_confusion["hint3 " + label][f"handoff:{reason}" if reason else intent] += 1
                ex = (label, intent, round(conf, 2), reason, text[:80])
                if label in HINT3:
                    tally.add("order topics right", reason is None and intent in HINT3[label], ex)
                    tally.add("route right", reason is None, None)
                elif label == "CHAT_WITH_AGENT":
                    tally.add("agent requests handed off", reason is not None, ex)
                    tally.add("route right", reason is not None, None)
                else:
                    ok = reason is None and intent not in ORDER_TOPICS
                    tally.add("oos kept off orders and queue", ok, ex)
                    tally.add("route right", reason is None, None)
        tallies.append(tally)
    if "handoff" in sets:
        tally = Tally("own handoff fixture (tests/fixtures/handoff_cases.jsonl)", own=True)
        with open(ROOT / "tests" / "fixtures" / "handoff_cases.jsonl", encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                case = json.loads(line)
                intent, conf = await parse(case["text"])
                reason, _ = judge.route(case["text"], intent, conf)
                model = HANDOFF[intent] if intent in HANDOFF and conf >= judge.thresholds.get(intent, 0.8) else None
                ex = (case["reason"], intent, round(conf, 2), reason, case["text"][:70])
                if case["reason"]:
                    tally.add(f"{case['reason']} recall (policy)", reason == case["reason"], ex)
                    tally.add(f"{case['reason']} recall (model alone)", model == case["reason"], ex)
                else:
                    tally.add("routine handed off (lower)", reason is not None, None)
                    if reason:
                        tally.errors["routine handed off (lower)"].append(ex)
        tallies.append(tally)
    if args.heldout:
        from rasa.shared.nlu.training_data.loading import load_data

        tally = Tally(f"held-out own data ({args.heldout})", own=True)
        confusion = Counter()
        for example in load_data(args.heldout).intent_examples:
            intent, conf = await parse(example.get("text"))
            tally.add("intent accuracy", intent == example.get("intent"),
                      (example.get("intent"), intent, round(conf, 2), example.get("text")[:60]))
            if intent != example.get("intent"):
                confusion[(example.get("intent"), intent)] += 1
        tallies.append(tally)
        print("held-out confusions:", confusion.most_common(15))

    return tallies


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--sets", default="bitext,jddc,hint3,handoff")
    parser.add_argument("--heldout", default=None)
    parser.add_argument("--json", default=None)
    parser.add_argument("--errors", type=int, default=0, help="error examples per metric, own sets only")
    parser.add_argument("--confusion", action="store_true", help="per eval label, the intents given (no sentences)")
    parser.add_argument("--fallback", type=float, default=None,
                        help="re-apply the fallback threshold to the ranking (below it: nlu_fallback)")
    parser.add_argument("--sweep", action="store_true", help="fallback x handoff-confidence grid, one line each")
    args = parser.parse_args()
    quiet_logs()
    from rasa.core.agent import Agent

    started = time.perf_counter()
    agent = Agent.load(args.model)
    load_s = time.perf_counter() - started
    detector, thresholds = load_detector()
    judge = Judge(detector, thresholds)
    parse_times: list[float] = []

    settings = {"fallback": args.fallback}
    parsed: dict[str, list[tuple[str, float]]] = {}

    async def parse(text):
        if text not in parsed:
            t = time.perf_counter()
            result = await agent.parse_message(text)
            parse_times.append(time.perf_counter() - t)
            top = result.get("intent") or {}
            ranking = [(r.get("name"), float(r.get("confidence") or 0.0))
                       for r in result.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
            parsed[text] = [(top.get("name"), float(top.get("confidence") or 0.0))] + ranking
        top, *ranking = parsed[text]
        if settings["fallback"] is None or not ranking:
            return top
        name, conf = ranking[0]
        return ("nlu_fallback", conf) if conf < settings["fallback"] else (name, conf)

    label_confusion = defaultdict(Counter)  # eval label -> what Kefu did (labels and intents only, no sentences)
    if args.sweep:
        for fallback in (0.0, 0.2, 0.3, 0.4, 0.45):
            for handoff_conf in (0.5, 0.6, 0.7, 0.8):
                settings.update(fallback=fallback, handoff=handoff_conf)
                judge.thresholds = {intent: handoff_conf for intent in judge.thresholds}
                tallies = await score_sets(args, parse, judge, defaultdict(Counter))
                print(f"fallback {fallback:.2f} handoff {handoff_conf:.2f}: " + "; ".join(
                    f"{t.title.split()[0]} " + " ".join(f"{m.strip()[:18]}={r / max(n, 1):.3f}"
                                                        for m, (r, n) in t.rows.items()) for t in tallies))
        return
    tallies = await score_sets(args, parse, judge, label_confusion)
    for tally in tallies:
        print(tally.table(args.errors))
    if args.confusion:
        print("\n## per eval label: what Kefu did (counts)")
        for label, got in sorted(label_confusion.items()):
            print(f"{label:<32} " + ", ".join(f"{k} {v}" for k, v in got.most_common(5)))
    times = sorted(parse_times)
    print(f"\nmodel load {load_s:.1f} s; parse p50 {1000 * times[len(times) // 2]:.1f} ms, "
          f"p95 {1000 * times[int(len(times) * 0.95)]:.1f} ms over {len(times)} messages")
    if args.json:
        Path(args.json).write_text(json.dumps({t.title: t.as_dict() for t in tallies} | {
            "load_s": load_s, "parse_p50_ms": 1000 * times[len(times) // 2]}, indent=1))


if __name__ == "__main__":
    asyncio.run(main())
