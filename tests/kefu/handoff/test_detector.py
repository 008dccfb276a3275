"""The lexicon detector and the handoff policy, in both languages, hard negatives included."""
from __future__ import annotations

from pathlib import Path

import pytest

from kefu.core.conversations import Understanding
from kefu.eval.handoff_measure import format_table, precision_recall, read_labelled
from kefu.handoff.decision import HandoffPolicy, load_model_rules
from kefu.handoff.detector import REASONS, Detector, LexiconError, default_detector

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "handoff_cases.jsonl"


def lexicon_reason(detector: Detector, text: str) -> str | None:
    """The first reason (safety first) the lexicon alone finds, ranked as HandoffPolicy ranks them."""
    return next((reason for reason in REASONS if detector.match(reason, text) is not None), None)


def understood(intent: str | None, confidence: float = 0.9) -> Understanding:
    return Understanding(intent=intent, confidence=confidence, entities=[])


@pytest.mark.parametrize(("text", "reason"), [
    ("我的空气炸锅昨天冒烟了还有焦味", "safety"),
    ("the heater caught fire in my living room", "safety"),
    ("孩子误吞了玩具的小零件", "safety"),
    ("my dog threw up after eating your chew sticks", "safety"),
    ("快递员威胁我要是退货就找上门", "safety"),
    ("I want to kill myself", "safety"),
    ("我要投诉,已经打了12315", "complaint"),
    ("I'll report you to consumer protection", "complaint"),
    ("I'm talking to my lawyer about this", "complaint"),
    ("转人工", "human"),
    ("you already said that", "human"),
    ("你根本听不懂", "human"),
])
def test_fires_on_each_category(text: str, reason: str) -> None:
    assert lexicon_reason(default_detector(), text) == reason, text


@pytest.mark.parametrize("text", [
    "the package hasn't arrived yet, can you check?",
    "不想要了,取消订单吧",
    "refund still not in my account, how many more days?",
    "T-100871 投诉进度怎么样了",
    "what's the status of my complaint T-100871?",
    "when will the smoke detector ship?",
    "火锅底料什么时候发货",
])
def test_hard_negatives_stay_with_the_bot(text: str) -> None:
    assert lexicon_reason(default_detector(), text) is None
    assert not HandoffPolicy.default().decide(text, understood("order_status")).handoff


@pytest.mark.parametrize("text", [
    "burn cream", "hospital bed", "smoke-coloured sunglasses", "court shoes", "human hair wig", "热销爆款", "火爆",
    "the toxic waste sour candy, is it vegan", "allergy eye drops", "a choke chain for a big dog", "爆炸盐洗衣粉",
    "电击灭蚊拍", "炸裂好看的裙子", "冒烟效果的舞台灯", "poison-themed board game",
    "a bleeding edge graphics card", "shock absorbers for my bike", "the fire pit set", "pepper spray for my bag",
    "防狼喷雾能寄吗", "爆炸头假发", "烟熏妆眼影", "which supplement helps joint pain", "I'm dying to wear it",
    "this deal is killer", "how do I claim my warranty", "insurance claim for my parcel", "客服您好",
])
def test_the_lexicon_does_not_fire_on_product_names_and_idioms(text: str) -> None:
    assert lexicon_reason(default_detector(), text) is None, text


@pytest.mark.parametrize(("text", "reason"), [
    ("I had an allergic reaction to the lotion", "safety"),
    ("my son swallowed a magnet", "safety"),
    ("food poisoning from your ham", "safety"),
    ("插头漏电，我被电击了一下", "safety"),
    ("我要投诉，一直没处理", "complaint"),
    ("get me your manager", "human"),
    ("I want to raise a grievance about your staff", "complaint"),
    ("how do I file a claim against your shop", "complaint"),
])
def test_the_lexicon_keeps_its_explicit_triggers(text: str, reason: str) -> None:
    assert lexicon_reason(default_detector(), text) == reason, text


def test_safety_wins_over_everything() -> None:
    text = "I want to complain: the charger caught fire, get me a human"
    decision = HandoffPolicy.default().decide(text, understood("request_human"))
    assert (decision.reason, decision.priority) == ("safety", "urgent")
    # the lexicon's safety beats the model's complaint, in either language
    decision = HandoffPolicy.default().decide("投诉!插头漏电电到我了", understood("complaint"))
    assert decision.reason == "safety"


def test_model_intent_needs_its_confidence() -> None:
    detector = default_detector()
    policy = HandoffPolicy(detector, load_model_rules(detector), classifier=None)  # the model's rule alone
    assert policy.decide("hmm", understood("complaint", 0.95)).reason == "complaint"
    assert policy.decide("hmm", understood("complaint", 0.2)).route == "bot"
    assert policy.decide("hmm", understood("request_human", 0.9)).priority == "normal"


@pytest.mark.parametrize("text", [
    "how does your complaints process work? nothing wrong, just asking before I buy",
    "想了解下投诉一般要多久才有答复 目前没遇到问题",
])
def test_a_complaint_word_in_a_routine_turn_only_offers_a_person(text: str) -> None:
    """The lexicon hears "complaint"; the classifier is sure the turn is routine: the customer is asked, not
    queued. A real complaint with the same word still hands off."""
    policy = HandoffPolicy.default()
    decision = policy.decide(text, None)
    assert (decision.route, decision.source) == ("offer", "lexicon"), decision
    real = policy.decide("I want to make a formal complaint about the courier who threw my parcel", None)
    assert (real.route, real.reason) == ("handoff", "complaint"), real


def test_the_model_alone_is_overruled_only_when_the_classifier_is_sure() -> None:
    policy = HandoffPolicy.default()
    question = "does the smoke alarm come with the battery included"
    assert policy.classifier.read(question).probabilities["routine"] >= 0.9
    assert policy.decide(question, understood("safety_issue", 0.8)).route == "offer"
    assert policy.decide(question, None).route == "bot"
    assert policy.decide(question, understood("request_human", 0.8)).reason == "human"  # a person: never overruled
    report = "the charger got hot and there is a black mark on the socket"
    assert policy.decide(report, understood("safety_issue", 0.8)).reason == "safety"


def test_conversation_signals_offer_a_person_instead_of_handing_off() -> None:
    """Seeming stuck is a guess: the customer is asked (route "offer"), not queued for an agent. The signals alone,
    without the classifier (which may also offer a person for keyboard noise typed twice)."""
    shipped = HandoffPolicy.default()
    policy = HandoffPolicy(shipped.detector, shipped.model_rules, classifier=None)
    earlier = [{"text": "asdf qwer", "understanding": {"intent": "nlu_fallback"}}]
    stuck = policy.decide("zxcv uiop", understood("nlu_fallback", 0.3), earlier)
    assert (stuck.route, stuck.source, stuck.handoff) == ("offer", "misunderstood", False)
    assert policy.decide("zxcv uiop", understood("nlu_fallback", 0.3), []).route == "bot"
    asked = [{"text": "Where is my parcel??", "understanding": {"intent": "order_status"}}]
    repeat = policy.decide("where is my parcel", understood("order_status"), asked)
    assert (repeat.route, repeat.reason, repeat.source) == ("offer", "human", "repeat")
    # "yes" twice is an answer, not a repeated question
    said_yes = [{"text": "yes please", "understanding": {"intent": "affirm"}}]
    assert policy.decide("yes please", understood("affirm"), said_yes).route == "bot"


def test_a_bad_pattern_is_refused_at_load() -> None:
    with pytest.raises(LexiconError, match="reasons.safety.patterns"):
        Detector({"reasons": {"safety": {"patterns": ["(unclosed"]}}})
    with pytest.raises(LexiconError, match="unknown reasons"):
        Detector({"order": ["safety", "angry"]})


def test_precision_and_recall_on_the_labelled_set() -> None:
    cases = read_labelled(CASES)
    assert len(cases) >= 150 and {c["lang"] for c in cases} == {"zh", "en"}
    detector = default_detector()
    pairs = []
    for case in cases:
        pairs.append((case["reason"], lexicon_reason(detector, case["text"])))
    table = precision_recall(pairs)
    print("\n" + format_table(f"lexicon detector on {len(cases)} labelled sentences", table))
    assert table["safety"][1] == 1.0  # no safety report may be missed
    for reason in ("safety", "complaint", "human"):
        assert table[reason][0] >= 0.9 and table[reason][1] >= 0.9, (reason, table[reason])
    routine = [case for case, (_, got) in zip(cases, pairs) if case["reason"] is None and got is not None]
    assert not routine, routine


@pytest.mark.parametrize("text", ["never mind, I found the tracking link", "nvm", "Actually never mind",
                                  "I don't need a person anymore", "算了 不用了", "算了，不用转人工了", "没事了",
                                  "不用人工了 我自己找到了", "不用了谢谢", "ok never mind it's arriving tomorrow"])
def test_a_request_for_a_person_taken_back(text: str) -> None:
    assert default_detector().withdraws(text)


@pytest.mark.parametrize("text", ["算了，你们这服务我不指望了", "never mind the colour, where is my order? I need a person",
                                  "no need to rush", "forget it, this is useless", "我要人工", "不用了 你们太差劲了，我要投诉"])
def test_what_only_sounds_like_taking_it_back(text: str) -> None:
    assert not default_detector().withdraws(text)
