"""The whole policy (lexicon + the real trained model's intent) measured on the labelled set."""
from __future__ import annotations

import aiohttp
import pytest

from kefu.config.settings import Settings
from kefu.dialogue.rasa_client import RasaClient
from kefu.eval.handoff_measure import format_table, precision_recall, read_labelled
from kefu.handoff.decision import HandoffPolicy
from tests.kefu.handoff.test_detector import CASES, lexicon_reason

pytestmark = pytest.mark.stack


async def test_policy_with_the_model_on_the_labelled_set(live_stack: Settings) -> None:
    cases = read_labelled(CASES)
    policy = HandoffPolicy.default()
    pairs, model_only, wrong, parsed = [], [], [], []
    async with aiohttp.ClientSession() as session:
        rasa = RasaClient(session, live_stack.rasa_url, live_stack.rasa_token)
        for case in cases:
            understanding = await rasa.parse(case["text"])
            parsed.append((case, understanding))
            decision = policy.decide(case["text"], understanding)
            pairs.append((case["reason"], decision.reason))
            rule = policy.model_rules.get(understanding.intent or "")
            model_only.append((case["reason"], rule.reason if rule else None))
            if decision.reason != case["reason"]:
                wrong.append((case["id"], case["reason"], decision.reason, understanding.intent,
                              understanding.confidence, case["text"]))
    print("\n" + format_table("model intent alone", precision_recall(model_only)))
    print(format_table("lexicon + model (the handoff policy)", precision_recall(pairs)))
    for row in wrong:
        print("  miss:", row)
    print(sweep(policy, parsed))
    table = precision_recall(pairs)
    assert table["safety"][1] == 1.0
    assert not [w for w in wrong if w[1] is None], "a routine sentence was handed off"
    assert table["handoff"][0] >= 0.95 and table["handoff"][1] >= 0.95


def sweep(policy: HandoffPolicy, parsed: list) -> str:
    """Route precision/recall of the model's handoff intents alone at several confidence thresholds, on the
    sentences the lexicon does not catch: how the thresholds in lexicon.yml were chosen."""
    lines = ["model-only thresholds (sentences the lexicon misses)", "threshold  handoffs  right  wrong  missed"]
    rest = [(case, u) for case, u in parsed if lexicon_reason(policy.detector, case["text"]) is None]
    for threshold in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95):
        got = [(case, u) for case, u in rest
               if u.intent in policy.model_rules and (u.confidence or 0) >= threshold]
        right = sum(policy.model_rules[u.intent].reason == case["reason"] for case, u in got)
        missed = sum(case["reason"] is not None for case, _ in rest) - right
        lines.append(f"{threshold:>9.2f}  {len(got):>8}  {right:>5}  {len(got) - right:>5}  {missed:>6}")
    return "\n".join(lines)
