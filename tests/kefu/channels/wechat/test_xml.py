"""WeChat's XML read by ElementTree into what wechatpy's own parser gives, and refused when it is not a message."""
from __future__ import annotations

import pytest
from wechatpy import parse_message

from fakes.wechat import fixture
from kefu.channels.wechat.xml import BadXml, parse_envelope, read_message


@pytest.mark.parametrize("kind", ["text", "image", "location", "voice", "video", "subscribe"])
def test_every_recorded_message_reads_as_wechatpy_reads_it(kind: str) -> None:
    xml = fixture(kind, openid="oAlice", msg_id="1001", content="  运费 &amp; <b>怎么算</b>  ")
    ours, theirs = read_message(xml), parse_message(xml)
    assert type(ours) is type(theirs)
    assert ours._data == dict(theirs._data)
    assert ours.source == "oAlice"


def test_repeated_and_nested_fields_keep_xmltodicts_shapes() -> None:
    fields = parse_envelope("<xml><A>1</A><B><C> x </C></B><A>2</A><D></D></xml>")
    assert fields == {"A": ["1", "2"], "B": {"C": "x"}, "D": None}


@pytest.mark.parametrize("body", [
    "<xml/>",
    "<xml>text only</xml>",
    "<message><MsgType>text</MsgType></message>",
    "<xml><MsgType>text</MsgType",
    "<xml><MsgType>text</MsgType><Content>no sender</Content></xml>",
    "<xml><FromUserName>oAlice</FromUserName></xml>",
    "<xml><MsgType>text</MsgType><FromUserName><a>1</a></FromUserName></xml>",
    "<xml><MsgType>text</MsgType><FromUserName>oA</FromUserName>" + "<a>" * 50 + "</a>" * 50 + "</xml>",
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e "x">]><xml><MsgType>text</MsgType></xml>',
])
def test_what_is_not_a_message_is_refused(body: str) -> None:
    with pytest.raises(BadXml):
        read_message(body)
