"""Kefu's one message catalog: every text a customer reads, in Chinese and English."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kefu.core.answers import is_acknowledgement

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES: tuple[str, ...] = ("zh", "en")
# The shops Kefu serves sell in China: when we cannot tell (an unknown code, no language yet), speak Chinese.
DEFAULT_LANG = "zh"

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Identifiers carry Latin letters but say nothing about the customer's language.
_IDENTIFIERS = re.compile(r"DD\d+|T-\d+", re.IGNORECASE)


class CatalogError(ValueError):
    """The locale files disagree or are malformed; raised at load so a bad catalog never ships."""


def detect_language(text: str | None) -> str | None:
    """The language a message is written in, or None when it has no words (an order id, digits, a payload)."""
    if not text or text.lstrip().startswith("/"):
        return None
    stripped = _IDENTIFIERS.sub(" ", text)
    if _CJK.search(stripped):
        return "zh"
    if _LATIN.search(stripped):
        return "en"
    return None


def language_of(text: str | None, *known: str | None) -> str:
    """The language to answer ``text`` in, given what is known of the conversation (first known wins).

    A message in words says its language; an id, digits, or a bare "ok"/"no"/"好的" (a yes or no says nothing
    about the language it is in) keeps the conversation's; with nothing known, what the message has, else zh."""
    remembered = next((lang for lang in known if lang in LANGUAGES), None)
    if remembered and text and is_acknowledgement(text):
        return remembered
    return detect_language(text) or remembered or DEFAULT_LANG


def normalise_lang(lang: str | None) -> str:
    """A supported language code; anything else falls back to DEFAULT_LANG."""
    return lang if lang in LANGUAGES else DEFAULT_LANG


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if not isinstance(key, str):  # YAML 1.1 reads unquoted yes/no/on/off keys as booleans
            raise CatalogError(f"{prefix}{key}: keys must be text; quote it in the YAML file")
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        else:
            raise CatalogError(f"{name}: expected text, got {type(value).__name__}")
    return flat


@cache
def catalog() -> dict[str, dict[str, str]]:
    """Both languages' texts by dotted key, loaded once; both files must define the same keys."""
    loaded: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        with open(LOCALES_DIR / f"{lang}.yml", encoding="utf-8") as handle:
            loaded[lang] = _flatten(yaml.safe_load(handle) or {})
    first, *others = LANGUAGES
    for other in others:
        missing = set(loaded[first]) ^ set(loaded[other])
        if missing:
            raise CatalogError(f"keys not in both {first}.yml and {other}.yml: {sorted(missing)}")
    return loaded


def has(key: str) -> bool:
    """Whether the catalog defines key (used where a key is built from data, e.g. a status)."""
    return key in catalog()[DEFAULT_LANG]


def t(key: str, lang: str | None, **fields: Any) -> str:
    """The text for key in lang, with str.format fields filled in; a missing key is a bug and raises KeyError."""
    return catalog()[normalise_lang(lang)][key].format(**fields)
