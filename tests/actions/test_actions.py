"""The actions end to end: Rasa-shaped trackers, CollectingDispatcher, demo data in a real Redis."""
from __future__ import annotations

import pytest

from actions import runtime
from kefu.core.i18n import t
from kefu.orders.http import HttpOrderBackend
from tests.actions.conftest import ACTIONS, RULES, Conversation
from tests.helpers.redis_server import free_port

pytestmark = pytest.mark.usefixtures("services")


async def test_every_domain_action_is_registered() -> None:
    assert set(ACTIONS) == set(RULES.values()) | {"action_fallback"}
    assert len(ACTIONS) == 15


async def test_order_status_in_chinese_shows_tracking() -> None:
    convo = Conversation(customer_id="c1001")
    turn = await convo.say("我的订单 DD20261104005 到哪了", "order_status")
    assert "DD20261104005" in turn.text and "顺丰速运" in turn.text and "SF1409917266" in turn.text
    assert "派送中" in turn.text and "Out for delivery" not in turn.text
    assert convo.slots["lang"] == "zh" and convo.slots["order_id"] == "DD20261104005"


async def test_one_open_order_shortcut_in_english_with_late_note() -> None:
    convo = Conversation(customer_id="c1002")
    turn = await convo.say("where is my parcel?", "order_status")
    assert "DD20261104010" in turn.text and "SF Express" in turn.text
    assert "past its promised delivery time" in turn.text and "coupon" in turn.text
    assert convo.slots["lang"] == "en"


async def test_stale_tracking_is_admitted_honestly() -> None:
    turn = await Conversation(customer_id="c1003").say("DD20261104015 怎么还没到", "order_status")
    assert "72 小时" in turn.text and "自动退款" in turn.text
    assert "快递公司还没有上传任何物流信息" in turn.text


async def test_partner_gift_line_has_its_own_tracking() -> None:
    turn = await Conversation(customer_id="c1001").say("DD20261104006 的赠品呢", "order_status")
    assert "杯来杯往旗舰店" in turn.text and "ZT5500128873" in turn.text
    assert "您无需自己联系" in turn.text


async def test_missing_id_is_asked_then_resumed_by_inform() -> None:
    convo = Conversation(customer_id="c1001")
    first = await convo.say("我要退款", "refund")
    assert convo.slots["awaiting"]["want"] == "order_id" and convo.slots["awaiting"]["topic"] == "refund"
    assert "DD20261104001" in first.text  # recent orders are listed to pick from
    second = await convo.say("DD20261104002", "inform")
    assert "已为您办理退款" in second.text and convo.slots["awaiting"] is None
    assert convo.slots["lang"] == "zh"


async def test_bare_id_resumes_even_when_classified_as_another_topic() -> None:
    convo = Conversation(customer_id="c1001")
    await convo.say("cancel my order please", "cancel_order")
    turn = await convo.say("DD20261104002", "order_status")
    assert "Do you want to cancel order DD20261104002" in turn.text
    awaiting = convo.slots["awaiting"]
    assert {k: awaiting[k] for k in ("want", "topic", "order_id")} == {
        "want": "confirm", "topic": "cancel_order", "order_id": "DD20261104002"}
    assert awaiting["prompt"]["text"] == turn.texts[-1] and awaiting["prompt"]["buttons"] == turn.buttons[-1]


async def test_confirm_then_cancel(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("取消订单 DD20261104002", "cancel_order")
    assert "确认要取消订单 DD20261104002" in ask.text
    question = convo.slots["awaiting"]["question"]
    assert ask.buttons[0] == [{"title": "确认", "payload": f'/affirm{{"question":"{question}"}}'},
                              {"title": "不用了", "payload": f'/deny{{"question":"{question}"}}'}]
    assert (await services.backend.get_order("DD20261104002")).status == "paid"
    done = await convo.say("确认", "affirm")
    assert "订单 DD20261104002 已取消" in done.text and "¥399.00" in done.text
    assert (await services.backend.get_order("DD20261104002")).status == "cancelled"
    assert convo.slots["awaiting"] is None
    again = await convo.say("好的", "affirm")
    assert again.text == t("affirm.nothing", "zh")


async def test_deny_drops_the_cancellation(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1002")
    await convo.say("please cancel DD20261104010", "cancel_order")
    convo_status = await services.backend.get_order("DD20261104010")
    assert convo_status.status == "shipped"
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("cancel DD20261104001", "cancel_order")
    assert ask.buttons[0][0]["title"] == "Yes"
    no = await convo.say("no", "deny")
    assert no.text == t("deny.dropped", "en") and convo.slots["awaiting"] is None
    assert (await services.backend.get_order("DD20261104001")).status == "unpaid"


async def test_cancel_refused_once_shipped() -> None:
    turn = await Conversation(customer_id="c1001").say("取消 DD20261104005", "cancel_order")
    assert "已经发货" in turn.text and not turn.buttons[0]


async def test_change_address_from_text_then_confirm(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("把 DD20261104002 的地址改成上海市徐汇区漕溪北路 88 号", "change_address")
    assert "上海市徐汇区漕溪北路 88 号" in ask.text and ask.buttons[0]
    await convo.say("对", "affirm")
    assert (await services.backend.get_order("DD20261104002")).address == "上海市徐汇区漕溪北路 88 号"


async def test_address_asked_and_next_text_taken_whatever_the_intent(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("I need to change the address of DD20261104001", "change_address")
    assert "full new delivery address" in ask.text and convo.slots["awaiting"]["want"] == "address"
    confirm = await convo.say("88 Huaihai Road, Xuhui District, Shanghai", "out_of_scope")
    assert "New: 88 Huaihai Road, Xuhui District, Shanghai" in confirm.text
    done = await convo.say("yes", "affirm")
    assert "88 Huaihai Road" in done.text
    assert (await services.backend.get_order("DD20261104001")).address == "88 Huaihai Road, Xuhui District, Shanghai"


async def test_anonymous_visitor_verifies_with_phone_digits() -> None:
    convo = Conversation(customer_id=None)
    ask = await convo.say("DD20261104005 到哪了", "order_status")
    assert "后四位" in ask.text and "SF1409917266" not in ask.text
    assert convo.slots["awaiting"]["want"] == "phone"
    shown = await convo.say("5678", "inform")
    assert "SF1409917266" in shown.text and convo.slots["verified_orders"] == ["DD20261104005"]
    later = await convo.say("DD20261104005 物流", "order_status")
    assert "SF1409917266" in later.text


async def test_anonymous_full_phone_in_one_message() -> None:
    turn = await Conversation().say("order DD20261104010, phone 13900001111", "order_status")
    assert "SF1412200457" in turn.text


async def test_anonymous_wrong_digits_reveal_nothing() -> None:
    convo = Conversation()
    await convo.say("DD20261104005 到哪了", "order_status")
    wrong = await convo.say("1234", "inform")
    unknown = Conversation()
    await unknown.say("DD20990000001 到哪了", "order_status")
    unknown_reply = await unknown.say("1234", "inform")
    assert "SF1409917266" not in wrong.text
    assert wrong.text.replace("DD20261104005", "X") == unknown_reply.text.replace("DD20990000001", "X")
    assert convo.slots.get("verified_orders") in (None, [])


async def test_anonymous_without_id_is_asked_for_id_and_phone() -> None:
    convo = Conversation()
    turn = await convo.say("where is my order", "order_status")
    assert "last 4 digits" in turn.text and convo.slots["awaiting"]["want"] == "order_id"


async def test_someone_elses_order_looks_like_an_unknown_one() -> None:
    other = await Conversation(customer_id="c1002").say("where is DD20261104005", "order_status")
    unknown = await Conversation(customer_id="c1002").say("where is DD20990000001", "order_status")
    assert "SF1409917266" not in other.text
    assert other.text.replace("DD20261104005", "X") == unknown.text.replace("DD20990000001", "X")
    assert other.text == t("order.not_found", "en", id="DD20261104005")


async def test_someone_elses_order_cannot_be_cancelled(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1002")
    turn = await convo.say("cancel DD20261104002", "cancel_order")
    assert not turn.buttons[0]
    await convo.say("yes", "affirm")
    assert (await services.backend.get_order("DD20261104002")).status == "paid"


async def test_refund_branches(services: runtime.Services) -> None:
    convo = Conversation(customer_id="c1001")
    stale = await convo.say("DD20261104004 一直没物流，退款", "refund")
    assert "自动退款" in stale.text
    review = await convo.say("DD20261104005 我要退款", "refund")
    assert "审核" in review.text and "T-1009" in review.text
    ticket = await services.tickets.latest_for("c1001")
    assert ticket is not None and ticket.reason == "refund_review" and ticket.id in review.text
    again = await convo.say("DD20261104005 退款", "refund")
    assert "已在审核中" in again.text
    unpaid = await convo.say("refund DD20261104001", "refund")
    assert "nothing to refund" in unpaid.text


async def test_return_within_seven_days_offers_pickup() -> None:
    convo = Conversation(customer_id="c1001")
    offer = await convo.say("DD20261104006 我想换货", "return_exchange")
    assert "可以换货" in offer.text and "上海市退货中心 1 号" in offer.text
    assert [b["title"] for b in offer.buttons[0]] == ["预约上门取件", "我自己寄回"]
    booked = await convo.say("好的", "affirm")
    assert "上门取件" in booked.text and "AS" in booked.text


async def test_return_declining_pickup_still_registers_it() -> None:
    convo = Conversation(customer_id="c1002")
    await convo.say("I want to return DD20261104011", "return_exchange")
    reply = await convo.say("no", "deny")
    assert "return request is registered" in reply.text and "上海市退货中心 1 号" in reply.text


async def test_return_after_seven_days_is_refused_with_reason() -> None:
    turn = await Conversation(customer_id="c1002").say("return DD20261104012 please", "return_exchange")
    assert "window ended" in turn.text and not turn.buttons[0]


async def test_invoice_asks_for_title_then_issues() -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("DD20261104005 开发票", "invoice")
    assert "个人" in ask.text and convo.slots["awaiting"]["want"] == "invoice"
    done = await convo.say("个人", "inform")
    assert "电子发票" in done.text and "24 小时" in done.text and convo.slots["awaiting"] is None


async def test_another_request_while_an_invoice_title_is_awaited_is_that_request() -> None:
    """The customer moved on: "cancel DD…" is not an invoice title, and "好的" is no title either."""
    convo = Conversation(customer_id="c1001")
    await convo.say("DD20261104005 开发票", "invoice")
    unclear = await convo.say("好的", "affirm")
    assert convo.slots["awaiting"]["want"] == "invoice" and "电子发票" not in unclear.text
    asked = await convo.say("帮我把订单DD20261104002取消掉", "cancel_order",
                            entities=[{"entity": "order_id", "value": "DD20261104002"}])
    assert "DD20261104002" in asked.text and "电子发票" not in asked.text
    assert convo.slots["awaiting"]["want"] == "confirm" and convo.slots["awaiting"]["topic"] == "cancel_order"


async def test_company_invoice_in_one_message() -> None:
    turn = await Conversation(customer_id="c1002").say(
        "Invoice for DD20261104011 to Acme Trading Co., Ltd. tax id 91310000MA1FL8X72K", "invoice")
    assert "Acme Trading Co., Ltd" in turn.text and "91310000MA1FL8X72K" in turn.text and "24 hours" in turn.text


async def test_company_invoice_asks_for_tax_id() -> None:
    convo = Conversation(customer_id="c1001")
    ask = await convo.say("DD20261104005 发票抬头是北京某某科技有限公司", "invoice")
    assert "税号" in ask.text and "北京某某科技有限公司" in ask.text
    done = await convo.say("91110108551385082Q", "inform")
    assert "91110108551385082Q" in done.text and "北京某某科技有限公司" in done.text


@pytest.mark.parametrize("text,expected", [
    ("运费怎么算", "¥99"), ("支持支付宝吗", "支付宝"), ("what's your warranty?", "1-year"),
    ("which courier do you use", "SF Express"), ("how long does delivery take", "48 hours"),
    ("你们有什么政策", "满 ¥99 包邮"),
])
async def test_policy_answers_the_question_asked(text: str, expected: str) -> None:
    turn = await Conversation().say(text, "policy")
    assert expected in turn.text


async def test_policy_specific_answer_is_not_the_summary() -> None:
    turn = await Conversation().say("运费怎么算", "policy")
    assert turn.text == t("policy.shipping_fee", "zh")


async def test_ticket_status() -> None:
    mine = await Conversation(customer_id="c1001").say("我的投诉处理得怎么样了", "ticket_status")
    assert "T-100871" in mine.text and "处理中" in mine.text and "财务" in mine.text
    by_id = await Conversation(customer_id="c1001").say("T-100871 进度", "ticket_status")
    assert "T-100871" in by_id.text
    not_mine = await Conversation(customer_id="c1002").say("status of T-100871", "ticket_status")
    assert not_mine.text == t("ticket.not_found", "en", id="T-100871")
    none = await Conversation(customer_id="c1004").say("any news on my ticket", "ticket_status")
    assert none.text == t("ticket.none", "en")


async def test_smalltalk_handoff_out_of_scope_fallback_by_language() -> None:
    assert (await Conversation().say("你好", "greet")).text == t("smalltalk.greet", "zh")
    assert (await Conversation().say("bye", "goodbye")).text == t("smalltalk.goodbye", "en")
    assert (await Conversation().say("thanks!", "thank")).text == t("smalltalk.thank", "en")
    assert (await Conversation().say("我要投诉", "complaint")).text == t("handoff.complaint", "zh")
    assert (await Conversation().say("the charger caught fire", "safety_issue")).text == t("handoff.safety", "en")
    assert (await Conversation().say("转人工", "request_human")).text == t("handoff.human", "zh")
    assert (await Conversation().say("what's the weather", "out_of_scope")).text == t("out_of_scope", "en")
    assert (await Conversation().say("asdf qwer", "nlu_fallback")).text == t("fallback.rephrase", "en")


async def test_language_is_remembered_for_wordless_messages() -> None:
    convo = Conversation(customer_id="c1002")
    await convo.say("hello", "greet")
    turn = await convo.say("DD20261104011", "inform")
    assert "Delivered on" in turn.text and convo.slots["lang"] == "en"


@pytest.mark.parametrize("action", sorted(set(RULES.values())))
async def test_no_action_is_ever_silent(action: str) -> None:
    intent = next(i for i, a in RULES.items() if a == action)
    turn = await Conversation().say("", intent)
    assert turn.texts and all(turn.texts)


async def test_backend_down_gets_a_polite_reply(services: runtime.Services) -> None:
    down = HttpOrderBackend(f"http://127.0.0.1:{free_port()}", "token", timeout_s=0.5)
    runtime.install(runtime.Services(settings=services.settings, redis=services.redis, backend=down,
                                     tickets=services.tickets, clock=services.clock))
    try:
        zh = await Conversation(customer_id="c1001").say("DD20261104005 到哪了", "order_status")
        en = await Conversation(customer_id="c1002").say("where is my order", "order_status")
        confirm = Conversation(customer_id="c1001", slots={
            "awaiting": {"want": "confirm", "topic": "cancel_order", "order_id": "DD20261104002"}})
        yes = await confirm.say("yes", "affirm")
    finally:
        await down.close()
    assert zh.text == t("error.backend_unavailable", "zh")
    assert en.text == t("error.backend_unavailable", "en")
    assert yes.text == t("error.backend_unavailable", "en")


@pytest.mark.parametrize(("text", "intent", "payload"), [
    ("我要投诉", "complaint", "/complaint"), ("the charger caught fire", "safety_issue", "/safety_issue"),
    ("转人工", "request_human", "/request_human"), ("can a person look at this", "request_human", "/request_human"),
])
async def test_a_handoff_intent_the_gateway_did_not_act_on_is_offered_never_promised(
    text: str, intent: str, payload: str
) -> None:
    """The bot's reply reaches the customer only when no handoff was opened: it must ask, with the button that
    opens one, and never say "transferring you" (field note 4)."""
    turn = await Conversation().say(text, intent)
    assert "转接" not in turn.text and "passing you" not in turn.text and "?" in turn.text.replace("？", "?")
    assert [b["payload"] for b in turn.buttons[0]] == [payload, "/deny"]
