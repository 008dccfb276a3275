"""WeChat's XML, read and written safely: no entity declarations in, no way to break out of CDATA on the way back.

WeChat never sends a DTD, so any ``<!DOCTYPE`` or ``<!ENTITY`` is an attack (XXE, billion laughs) and is refused
before a parser sees it. wechatpy's replies wrap text in CDATA without escaping ``]]>``; ``cdata_safe`` splits it.
"""
from __future__ import annotations

import re
import time
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.messages import BaseMessage
from wechatpy.replies import TextReply

_DECLARATIONS = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
# Characters XML 1.0 cannot carry at all; they would make WeChat reject the whole reply.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class BadXml(ValueError):
    """The body is not a WeChat XML message we can safely read."""


def _checked(raw: bytes | str) -> bytes:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if _DECLARATIONS.search(data):
        raise BadXml("entity or document type declarations are not allowed")
    return data


def parse_envelope(raw: bytes | str) -> dict[str, Any]:
    """The top-level fields of ``<xml>...</xml>`` (e.g. ``Encrypt``, ``ToUserName``)."""
    data = _checked(raw)
    try:
        tree = xmltodict.parse(data, disable_entities=True)
    except (ExpatError, ValueError) as error:
        raise BadXml(f"malformed XML: {error}") from None
    fields = tree.get("xml") if isinstance(tree, dict) else None
    if not isinstance(fields, dict):
        raise BadXml("the root element must be <xml> with fields")
    return fields


def read_message(raw: bytes | str) -> BaseMessage:
    """A wechatpy message object (unknown types become wechatpy's UnknownMessage); parsed once, by wechatpy."""
    try:
        message = parse_message(_checked(raw).decode("utf-8"))
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise BadXml(f"unreadable message: {error}") from None
    if not isinstance(message, BaseMessage) or not isinstance(message.source, str) or not message.source:
        raise BadXml("MsgType and FromUserName are required")
    return message


def cdata_safe(text: str) -> str:
    """Text that stays inside one CDATA section whatever it contains (``]]>`` is split across two)."""
    return _NOT_XML.sub("", text).replace("]]>", "]]]]><![CDATA[>")


def text_reply(to_user: str, from_user: str, content: str, now: float | None = None) -> str:
    """A passive text reply, rendered by wechatpy with every field made CDATA-safe."""
    reply = TextReply(
        source=cdata_safe(from_user),
        target=cdata_safe(to_user),
        content=cdata_safe(content),
        time=int(now if now is not None else time.time()),
    )
    return reply.render()
