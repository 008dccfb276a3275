"""Complaint and safety categories on bilingual examples written for this test, hard negatives included."""
from __future__ import annotations

import pytest

from kefu.handoff.categories import CATEGORIES, Categoriser, categorise
from kefu.handoff.detector import LexiconError

COMPLAINTS = [
    # delivery
    ("快递三天了还没到,物流信息一直不动", "delivery"),
    ("包裹被放在门口淋湿了,谁签收的我都不知道", "delivery"),
    ("the courier left my parcel outside in the rain", "delivery"),
    ("my package never arrived and tracking has not moved for a week", "delivery"),
    # product quality
    ("收到的杯子是碎的,质量太差了", "product_quality"),
    ("衣服洗了一次就掉色还开线", "product_quality"),
    ("the blender stopped working after two days", "product_quality"),
    ("the zip is broken and the fabric is flimsy", "product_quality"),
    # false advertising
    ("实物和详情页描述不符,就是虚假宣传", "false_advertising"),
    ("说是纯棉结果是化纤,货不对板", "false_advertising"),
    ("the jacket is not as described, the listing is misleading", "false_advertising"),
    ("this is a counterfeit, not the brand you advertised", "false_advertising"),
    # service attitude
    ("你们客服态度太差了,问两句就不耐烦", "service_attitude"),
    ("打电话过去直接挂我电话,推来推去没人管", "service_attitude"),
    ("your agent was rude and hung up on me", "service_attitude"),
    ("I keep getting passed around and copy-paste replies", "service_attitude"),
    # partner fulfilment
    ("第三方商家发的货,到现在都没人管", "partner_fulfilment"),
    ("赠品一直没发,商家说找你们", "partner_fulfilment"),
    ("the third-party seller shipped the wrong size and will not answer", "partner_fulfilment"),
    ("the free gift never arrived, it was fulfilled by your partner", "partner_fulfilment"),
    # broken promise
    ("上周说好给我回电话,到现在也没人联系我", "broken_promise"),
    ("答应三天内退款,结果又拖了一周", "broken_promise"),
    ("you promised a refund by Friday and nothing happened", "broken_promise"),
    ("someone said they would call me back and never called", "broken_promise"),
    # hard negatives: a category's word said in praise, or a word that is not the complaint
    ("快递很快,但是东西一用就坏了,质量不行", "product_quality"),
    ("客服态度挺好的,可是包裹寄丢了", "delivery"),
    ("fast delivery, but the lid was cracked and it leaks", "product_quality"),
    ("the staff were very friendly but my parcel was lost in transit", "delivery"),
    ("我要投诉,这事太离谱了", "other"),
    ("I want to make a formal complaint", "other"),
]

SAFETY = [
    ("充电宝充电的时候冒烟了,差点着火", "fire"),
    ("the charger sparked and black smoke came out of it", "fire"),
    ("热水壶把手太烫,孩子手上起了水泡", "burn"),
    ("the kettle lid flew off and scalded my arm", "burn"),
    ("刀片松了,把我手指划伤了,流了好多血", "injury"),
    ("the shelf collapsed and my son needed stitches", "injury"),
    ("插座漏电,碰了一下手都麻了", "electric_shock"),
    ("the lamp gave me an electric shock when I touched it", "electric_shock"),
    ("吃了你们的零食全家上吐下泻", "poisoning"),
    ("my dog has been vomiting since eating these treats", "poisoning"),
    ("宝宝把玩具上的小珠子吞下去了", "choking"),
    ("my toddler choked on a piece that came off the toy", "choking"),
    ("用了这个面霜脸上起疹子,又红又痒", "allergy"),
    ("I came out in hives after using the shampoo", "allergy"),
    ("送货员威胁我说要报复", "harassment"),
    ("the delivery man keeps texting me at night, it is harassment", "harassment"),
    ("安装师傅动手推了我妈一把", "violence"),
    ("the installer pushed me and kicked the door", "violence"),
    ("这件事让我真的不想活了", "self_harm"),
    ("honestly I want to kill myself over this", "self_harm"),
    # the person hurt names it, not the hazard that did it
    ("充电宝充电时冒烟了,还烫伤了孩子的手", "burn"),
    ("smoke came out of the heater and my husband burned his hand", "burn"),
    # hard negatives: products named after a hazard, idioms
    ("这个烫伤膏用了以后起了好多疹子", "allergy"),
    ("气炸了,收到的灭火器是漏的,我手被划破了", "injury"),
    ("the smoke detector you sold me gave me a shock", "electric_shock"),
    ("something dangerous happened", "other"),
]


@pytest.mark.parametrize(("text", "expected"), COMPLAINTS)
def test_complaint_categories(text: str, expected: str) -> None:
    assert categorise("complaint", text) == expected


@pytest.mark.parametrize(("text", "expected"), SAFETY)
def test_safety_categories(text: str, expected: str) -> None:
    assert categorise("safety", text) == expected


def test_a_request_for_a_person_has_no_category() -> None:
    assert categorise("human", "快递三天了还没到,转人工") == ""
    assert categorise(None, "the parcel is late") == ""


def test_every_category_named_in_the_file_is_known() -> None:
    assert {expected for _, expected in COMPLAINTS + SAFETY} <= set(CATEGORIES)


def test_a_file_that_forgets_a_category_is_refused() -> None:
    with pytest.raises(LexiconError, match="complaint.order"):
        Categoriser({"complaint": {"order": ["delivery"]}, "safety": {"order": []}})
