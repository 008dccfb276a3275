"""WeChat's XML, read and written safely: no entity declarations in, no way to break out of CDATA on the way back.

WeChat never sends a DTD, so any ``<!DOCTYPE`` or ``<!ENTITY`` is an attack (XXE, billion laughs) and is refused
before a parser sees it. wechatpy's replies wrap text in CDATA without escaping ``]]>``; ``cdata_safe`` splits it.
Bodies are read by ElementTree (expat building the tree in C) into the dicts wechatpy's messages read, as xmltodict
shapes them: xmltodict's Python callbacks were a tenth of the acknowledgement's CPU. Events keep wechatpy's parser,
whose rules tell their kinds apart.
"""
from __future__ import annotations

import re
import time
from typing import Any
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

from wechatpy import parse_message
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage
from wechatpy.replies import TextReply

_DECLARATIONS = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.IGNORECASE)
# WeChat nests three levels at most (an event's SendPicsInfo > PicList > item); deeper is refused, not recursed into.
MAX_DEPTH = 8
# Characters XML 1.0 cannot carry at all; they would make WeChat reject the whole reply.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class BadXml(ValueError):
    """The body is not a WeChat XML message we can safely read."""


def _checked(raw: bytes | str) -> bytes:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    if _DECLARATIONS.search(data):
        raise BadXml("entity or document type declarations are not allowed")
    return data


def _fields(data: bytes) -> dict[str, Any]:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as error:
        raise BadXml(f"malformed XML: {error}") from None
    if root.tag != "xml" or len(root) == 0:
        raise BadXml("the root element must be <xml> with fields")
    return _children(root, 1)


def _children(element: ElementTree.Element, depth: int) -> dict[str, Any]:
    """As xmltodict has it: stripped text (None when empty), a dict for an element with children, a list for a
    name repeated."""
    if depth > MAX_DEPTH:
        raise BadXml("nested too deeply")
    fields: dict[str, Any] = {}
    for child in element:
        value = _children(child, depth + 1) if len(child) else ((child.text or "").strip() or None)
        if child.tag not in fields:
            fields[child.tag] = value
        elif isinstance(fields[child.tag], list):
            fields[child.tag].append(value)
        else:
            fields[child.tag] = [fields[child.tag], value]
    return fields


def parse_envelope(raw: bytes | str) -> dict[str, Any]:
    """The top-level fields of ``<xml>...</xml>`` (e.g. ``Encrypt``, ``ToUserName``)."""
    return _fields(_checked(raw))


def read_message(raw: bytes | str) -> BaseMessage:
    """A wechatpy message object (unknown types become wechatpy's UnknownMessage), the XML parsed once."""
    data = _checked(raw)
    fields = _fields(data)
    kind = fields.get("MsgType")
    if not isinstance(kind, str):
        raise BadXml("MsgType and FromUserName are required")
    if kind.lower() == "event" or kind.lower().startswith("device_"):
        message = _event(data)
    else:
        message = MESSAGE_TYPES.get(kind.lower(), UnknownMessage)(fields)
    if not isinstance(message, BaseMessage) or not isinstance(message.source, str) or not message.source:
        raise BadXml("MsgType and FromUserName are required")
    return message


def _event(data: bytes) -> BaseMessage:
    """An event, read by wechatpy itself: its kind depends on the event's fields by rules of wechatpy's own."""
    try:
        return parse_message(data.decode("utf-8"))
    except (ExpatError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise BadXml(f"unreadable message: {error}") from None


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
