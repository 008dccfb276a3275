"""Plain yes and no read by their words (actions/answers.py): whole short messages only, both languages."""
from __future__ import annotations

import pytest

from kefu.core.answers import is_acknowledgement, yes_or_no


@pytest.mark.parametrize("text", ["ok", "OK!", "okay", "yes please", "sure", "go ahead", "嗯", "嗯嗯", "好的",
                                  "好", "可以", "行", "没问题", "确认", "是的", "对"])
def test_plain_yes(text: str) -> None:
    assert yes_or_no(text) == "affirm"


@pytest.mark.parametrize("text", ["no", "No.", "nope", "no thanks", "never mind", "不用了", "不要", "算了", "不",
                                  "先不用了"])
def test_plain_no(text: str) -> None:
    assert yes_or_no(text) == "deny"


@pytest.mark.parametrize("text", ["ok where is my order", "yes I want a refund for DD20261104002", "不行，我要投诉",
                                  "好的谢谢，那发票呢", "no idea", "nothing arrived", "可以退货吗", "对不起", ""])
def test_sentences_are_not_plain_answers(text: str) -> None:
    assert yes_or_no(text) is None and not is_acknowledgement(text)
