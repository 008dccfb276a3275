"""Short answers read by their words, for when the NLU model gave a bare reply some other intent.

The model decides first; these lists only rescue a yes or no it took for nonsense (fallback, out of scope,
small talk) while a yes/no question is open, and keep the reply in the conversation's language."""
from __future__ import annotations

import re

_END = r"\s*[.!?,，。！？~～]*\s*$"
YES = re.compile(
    r"^\s*(?:ok(?:ay)?|k|yes|yeah|yep|yup|sure|y|go ahead|do it|please do|confirm(?:ed)?|correct|right"
    r"|嗯+|哦+|好+的?|好吧|是的?|对的?|没错|行|可以|确认|确定|没问题)(?:\s*(?:please|thanks|谢谢|啊|呀|吧))?" + _END,
    re.IGNORECASE)
NO = re.compile(
    r"^\s*(?:no|nope|nah|n|no thanks|don't|do not|cancel that|never mind|不用了?|不要了?|不|不是|不对|算了|别|先不(?:用)?了?)"
    r"(?:\s*(?:thanks|thank you|谢谢|了|啊|吧))?" + _END,
    re.IGNORECASE)


def yes_or_no(text: str) -> str | None:
    """"affirm" or "deny" when the whole message is a plain yes or no, else None."""
    if YES.match(text):
        return "affirm"
    if NO.match(text):
        return "deny"
    return None


def is_acknowledgement(text: str) -> bool:
    """A plain yes or no says nothing about the language it is in ("ok" in a Chinese conversation)."""
    return yes_or_no(text) is not None
