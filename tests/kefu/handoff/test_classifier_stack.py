"""The whole policy (lexicon + classifier + the real trained NLU model) measured on the held-out handoff set."""
from __future__ import annotations

import aiohttp
import pytest

from kefu.config.settings import Settings
from kefu.dialogue.rasa_client import RasaClient
from kefu.eval.handoff_measure import (
    HELDOUT,
    false_handoffs,
    format_table,
    precision_recall,
    read_conversations,
)
from kefu.handoff.decision import HandoffPolicy

pytestmark = pytest.mark.stack


async def test_the_whole_policy_on_the_held_out_set(live_stack: Settings) -> None:
    """A real measurement (targets: safety recall 100 %, complaint >= 95 %, false handoffs <= 2 %); the floors
    are what it measured when written (the notes): below the targets, and a change below them fails."""
    cases = read_conversations(HELDOUT)
    policy = HandoffPolicy.default()
    pairs, offered = [], 0
    async with aiohttp.ClientSession() as session:
        rasa = RasaClient(session, live_stack.rasa_url, live_stack.rasa_token)
        for case in cases:
            history = [{"text": text, "understanding": (await rasa.parse(text)).to_dict()} for text in case.previous]
            decision = policy.decide(case.text, await rasa.parse(case.text), history)
            pairs.append((case.reason, decision.reason if decision.handoff else None))
            offered += decision.offer and case.reason is not None
    table = precision_recall(pairs)
    false, routine = false_handoffs(pairs)
    print("\n" + format_table(f"lexicon + classifier + NLU model on {len(cases)} held-out cases", table))
    print(f"false handoffs {false}/{routine}; {offered} missed cases offered a person")
    assert table["safety"][1] >= FLOORS["safety"]
    assert table["complaint"][1] >= FLOORS["complaint"]
    assert table["human"][1] >= FLOORS["human"]
    assert false / routine <= FLOORS["false"]


# Measured 2026-12-02 05:44 (two encoders, the Rasa model of 05:11): safety 96.2 %, complaint 66.0 % (31/47; the
# agreement rule needs the NLU model's top intent, and the model changed since the 68.1 % measured before),
# person 85.0 %, false handoffs 1/86.
FLOORS = {"safety": 0.96, "complaint": 0.66, "human": 0.85, "false": 0.012}
