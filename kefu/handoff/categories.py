"""What a complaint or safety ticket is about (delivery, product quality, ... ; fire, burn, injury, ...), so
complaints are counted, not just answered: set when the handoff opens, corrected by the agent in the console.

The words are data (categories.yml beside this module), matched the way the handoff lexicon is.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kefu.handoff.detector import LexiconError, _compile, normalise

CATEGORIES_PATH = Path(__file__).resolve().parent / "categories.yml"
OTHER = "other"
COMPLAINT_CATEGORIES: tuple[str, ...] = ("delivery", "product_quality", "false_advertising", "service_attitude",
                                         "partner_fulfilment", "broken_promise")
SAFETY_CATEGORIES: tuple[str, ...] = ("fire", "burn", "injury", "electric_shock", "poisoning", "choking", "allergy",
                                      "harassment", "violence", "self_harm")
# Every category a ticket can carry: what the agent may choose from, whatever the ticket's reason.
CATEGORIES: tuple[str, ...] = (*COMPLAINT_CATEGORIES, *SAFETY_CATEGORIES, OTHER)
_KNOWN = {"complaint": COMPLAINT_CATEGORIES, "safety": SAFETY_CATEGORIES}


@dataclass(frozen=True)
class _Category:
    name: str
    patterns: re.Pattern[str] | None
    ignore: re.Pattern[str] | None

    def matches(self, cleaned: str) -> bool:
        if self.patterns is None:
            return False
        if self.ignore is not None:
            cleaned = self.ignore.sub(" ", cleaned)
        return self.patterns.search(cleaned) is not None


class Categoriser:
    """Names the category of a complaint or safety report; reasons without categories (a request for a person)
    get none."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._by_reason: dict[str, tuple[_Category, ...]] = {}
        for reason, known in _KNOWN.items():
            section = data.get(reason) or {}
            order = list(section.get("order") or [])
            if sorted(order) != sorted(known):
                raise LexiconError(f"{reason}.order must list exactly {sorted(known)}, got {order}")
            entries = section.get("categories") or {}
            self._by_reason[reason] = tuple(
                _Category(name,
                          _compile(list((entries.get(name) or {}).get("patterns") or []), f"{reason}.{name}.patterns"),
                          _compile(list((entries.get(name) or {}).get("ignore") or []), f"{reason}.{name}.ignore"))
                for name in order
            )

    @classmethod
    def from_file(cls, path: Path = CATEGORIES_PATH) -> Categoriser:
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle) or {})

    def categorise(self, reason: str | None, text: str) -> str:
        """The first matching category of the reason, ``other`` when none matches, "" for other reasons."""
        categories = self._by_reason.get(reason or "")
        if categories is None:
            return ""
        cleaned = normalise(text)
        return next((category.name for category in categories if category.matches(cleaned)), OTHER)


@cache
def default_categoriser() -> Categoriser:
    return Categoriser.from_file()


def categorise(reason: str | None, text: str) -> str:
    """The shipped categories' verdict (see ``Categoriser.categorise``)."""
    return default_categoriser().categorise(reason, text)
