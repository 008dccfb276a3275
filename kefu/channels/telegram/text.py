"""Long replies cut into messages Telegram accepts: ``sendMessage`` refuses text over 4096 UTF-16 code units.

Telegram counts UTF-16 code units, so a character outside the BMP (most emoji) counts twice. Cuts fall where a
reader would pause (a blank line, a line end, a sentence end, a clause, a space) in the second half of each
message, so parts are never tiny; only text with no such place is cut hard, and never inside a character.
"""
from __future__ import annotations

import re
import unicodedata

MAX_MESSAGE_UNITS = 4096

# Best first. A match is the whitespace dropped between two parts: the part before ends at its start, the next
# part begins at its end (CJK punctuation needs no space after it, so there the match may be empty).
_BOUNDARIES = (
    re.compile(r"[ \t]*\n(?:[ \t]*\n)+"),  # a blank line between paragraphs
    re.compile(r"[ \t]*\n"),  # a line end
    re.compile(r"(?:(?<=[.!?…])|(?<=[.!?…][\"'”’)]))\s+"  # a sentence end, closing quote or bracket included
               r"|(?:(?<=[。！？])|(?<=[。！？][”’」』）]))\s*"),
    re.compile(r"(?<=[,;:])\s+|(?<=[，、；：])\s*"),  # a clause end
    re.compile(r"\s+"),  # any space
)
_ZWJ = "\u200d"
_SKIN_TONES = ("\U0001f3fb", "\U0001f3ff")


def utf16_units(text: str) -> int:
    """The length Telegram measures: characters outside the BMP take two UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def split_message(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """``text`` as consecutive parts of at most ``limit`` UTF-16 units each, in order.

    Text that fits comes back unchanged as the only part, the empty string included (an empty reply is
    Telegram's to refuse, and is flagged like any other refused send). The whitespace at a cut is dropped;
    Telegram would trim it anyway.
    """
    if limit < 2:
        raise ValueError("a part must have room for one character outside the BMP (2 UTF-16 units)")
    parts: list[str] = []
    rest = text
    while utf16_units(rest) > limit:
        end = _fitting(rest, limit)
        cut, resume = _cut(rest, end)
        if rest[:cut].strip():  # a run of blank lines at a cut would make a part Telegram refuses
            parts.append(rest[:cut])
        rest = rest[resume:]
    if rest.strip() or not parts:
        parts.append(rest)
    return parts


def _fitting(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _cut(text: str, end: int) -> tuple[int, int]:
    """Where the part ending at or before ``end`` stops, and where the next one starts."""
    floor = max(1, end // 2)
    for boundary in _BOUNDARIES:
        # endpos end + 1 lets a space just past the limit count; a part may not reach past ``end`` itself.
        starts = [match.start() for match in boundary.finditer(text, floor, end + 1) if match.start() <= end]
        if starts:
            cut = starts[-1]
            return cut, boundary.match(text, cut).end()  # matched again without endpos: all the whitespace
    cut = end
    while cut > floor and _joined(text, cut):  # keep a character with its accent, an emoji with its modifier
        cut -= 1
    return cut, cut


def _joined(text: str, index: int) -> bool:
    """Whether cutting before ``text[index]`` would separate it from the character before it."""
    char = text[index]
    return (_ZWJ in (char, text[index - 1]) or unicodedata.category(char).startswith("M")  # accents, VS16
            or _SKIN_TONES[0] <= char <= _SKIN_TONES[1])
