"""Yes and no (actions/topic_dialogue.py): a typed answer answers the open question, a tapped button only the
question it was sent with, so an old "Yes" never acts on a newer question (issue 9, defect 8)."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from actions import runtime
from kefu.channels.base import BUTTON_PAYLOAD
from kefu.core.i18n import t
from tests.actions.conftest import Conversation, Turn

pytestmark = pytest.mark.usefixtures("services")

_PAYLOAD = re.compile(r"^/(?P<intent>[a-z_]+)(?P<entities>\{.*\})?$")


async def press(convo: Conversation, button: dict[str, Any]) -> Turn:
    """Tap a button as Rasa sees it: the payload is the text, its intent and entities are taken as written."""
    payload = button["payload"]
    match = _PAYLOAD.match(payload)
    # what the web chat and Telegram receivers let through; Telegram's callback_data holds 64 bytes at most
    assert match and BUTTON_PAYLOAD.match(payload) and len(payload.encode()) <= 64, payload
    entities = [{"entity": name, "value": value}
                for name, value in json.loads(match.group("entities") or "{}").items()]
    return await convo.say(payload, match.group("intent"), entities=entities)


async def status(services: runtime.Services, order_id: str) -> str:
    return (await services.backend.get_order(order_id)).status


async def test_an_old_yes_cancels_nothing_and_shows_what_is_open(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    ask_a = await convo.say("取消订单 DD20261104001", "cancel_order")
    ask_b = await convo.say("取消订单 DD20261104002", "cancel_order")
    old_yes, new_yes = ask_a.buttons[-1][0], ask_b.buttons[-1][0]
    assert old_yes["payload"] != new_yes["payload"]
    stale = await press(convo, old_yes)
    assert stale.texts == [t("context.stale_pending", "zh", question=ask_b.texts[-1])]
    assert stale.buttons == [ask_b.buttons[-1]]  # B's question again, with B's own buttons
    assert await status(services, "DD20261104001") == "unpaid"
    assert await status(services, "DD20261104002") == "paid"
    done = await press(convo, stale.buttons[-1][0])
    assert "订单 DD20261104002 已取消" in done.text
    assert await status(services, "DD20261104002") == "cancelled"
    again = await press(convo, new_yes)  # B's yes a second time: answered, nothing done twice
    assert again.texts == [t("context.stale_nothing", "zh")]
    assert await status(services, "DD20261104001") == "unpaid"


async def test_an_old_no_drops_nothing(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    ask_a = await convo.say("cancel DD20261104001", "cancel_order")
    await convo.say("cancel DD20261104002", "cancel_order")
    stale = await press(convo, ask_a.buttons[-1][1])
    assert stale.text.startswith(t("context.stale_pending", "en", question="").strip()[:30])
    assert convo.slots["awaiting"]["order_id"] == "DD20261104002"
    done = await convo.say("yes", "affirm")  # typed: answers the question open now
    assert "DD20261104002" in done.text and await status(services, "DD20261104002") == "cancelled"


async def test_a_button_without_a_question_id_answers_nothing(services: runtime.Services) -> None:
    """Bare `/affirm` (a button from before ids, or hand-made) is refused; the offer of a person's "No, thanks"
    (`/deny`, no question of ours) leaves the open question alone."""
    convo = Conversation(customer_id="c1001")
    await convo.say("取消订单 DD20261104002", "cancel_order")
    bare_yes = await press(convo, {"payload": "/affirm"})
    assert bare_yes.text.startswith("那个问题已经结束了") and await status(services, "DD20261104002") == "paid"
    no_thanks = await press(convo, {"payload": "/deny"})
    assert no_thanks.texts == [t("deny.nothing", "zh")] and convo.slots["awaiting"]["order_id"] == "DD20261104002"


async def test_a_button_is_never_taken_as_the_address_asked_for(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    cancel = await convo.say("取消订单 DD20261104001", "cancel_order")
    await convo.say("DD20261104002 改地址", "change_address")
    assert convo.slots["awaiting"]["want"] == "address"
    stale = await press(convo, cancel.buttons[-1][0])
    assert stale.text.startswith("那个问题已经结束了") and convo.slots["awaiting"]["want"] == "address"
    assert await status(services, "DD20261104001") == "unpaid"
    order = await services.backend.get_order("DD20261104002")
    assert "/affirm" not in order.address


async def test_typed_yes_answers_the_open_question_in_its_language() -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("取消订单 DD20261104002", "cancel_order")
    done = await convo.say("ok", "affirm")
    assert "订单 DD20261104002 已取消" in done.text and convo.slots["lang"] == "zh"


async def test_ok_to_which_order_asks_again_rather_than_forgetting() -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("我要退款", "refund")
    again = await convo.say("好的", "affirm")
    assert again.texts == [t("context.still_waiting", "zh", question=ask.texts[-1])]
    assert convo.slots["awaiting"]["want"] == "order_id"
    done = await convo.say("DD20261104002", "inform")
    assert "已为您办理退款" in done.text


async def test_no_with_nothing_open_is_neutral_in_the_conversations_language() -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("运费怎么算", "policy")
    for word in ("no", "不用了"):
        turn = await convo.say(word, "deny")
        assert turn.texts == [t("deny.nothing", "zh")] and convo.slots["lang"] == "zh"
