"""The message catalog: language detection, lookups, and both locale files agreeing."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kefu.core import i18n


@pytest.mark.parametrize("text,lang", [
    ("我的快递到哪了", "zh"), ("where is my order", "en"), ("DD20261104005", None), ("5678", None),
    ("", None), (None, None), ("DD20261104005 退款", "zh"), ("T-100871", None), ("/affirm", None),
    ("我想 refund", "zh"), ("ok", "en"), ("13812345678", None),
])
def test_detect_language(text: str | None, lang: str | None) -> None:
    assert i18n.detect_language(text) == lang


@pytest.mark.parametrize("text,known,lang", [
    ("ok", ("zh",), "zh"), ("好的", ("en",), "en"), ("no thanks", ("zh",), "zh"),  # a bare yes/no keeps it
    ("where is my order", ("zh",), "en"), ("我的快递到哪了", ("en",), "zh"),  # words say their language
    ("DD20261104005", (None, "en"), "en"), ("ok", (), "en"), ("5678", (), "zh"), ("ok", ("fr", "zh"), "zh"),
])
def test_the_language_to_answer_in(text: str, known: tuple[str | None, ...], lang: str) -> None:
    assert i18n.language_of(text, *known) == lang


def test_t_formats_fields_in_each_language() -> None:
    assert i18n.t("gateway.too_long", "en", limit=2000) == \
        "Your message is too long; please keep it under 2000 characters."
    assert "2000" in i18n.t("gateway.too_long", "zh", limit=2000)
    assert i18n.t("gateway.too_long", "zh", limit=5) != i18n.t("gateway.too_long", "en", limit=5)


def test_unknown_language_falls_back_to_chinese() -> None:
    assert i18n.t("smalltalk.greet", "fr") == i18n.t("smalltalk.greet", "zh")
    assert i18n.t("smalltalk.greet", None) == i18n.t("smalltalk.greet", "zh")


def test_unknown_key_raises() -> None:
    with pytest.raises(KeyError):
        i18n.t("no.such.key", "en")


def test_gateway_keys_exist() -> None:
    for key in ("gateway.unavailable", "gateway.empty", "gateway.too_long", "gateway.bad_request"):
        assert i18n.has(key)
        assert i18n.t(key, "en", limit=10) and i18n.t(key, "zh", limit=10)


def test_both_catalogs_have_the_same_keys_and_fields() -> None:
    catalog = i18n.catalog()
    assert catalog["zh"].keys() == catalog["en"].keys()
    formatter = string.Formatter()
    for key, zh in catalog["zh"].items():
        fields_zh = {name for _, name, _, _ in formatter.parse(zh) if name}
        fields_en = {name for _, name, _, _ in formatter.parse(catalog["en"][key]) if name}
        assert {f.split(".")[0] for f in fields_zh} == {f.split(".")[0] for f in fields_en}, key


def test_every_key_used_by_the_actions_exists() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path("actions").rglob("*.py"))
    literal_keys = set(re.findall(r"""(?:say|tr)\(\s*["']([a-z_]+(?:\.[a-z_]+)+)["']""", source))
    assert literal_keys, "the pattern should find keys"
    missing = [key for key in literal_keys if not i18n.has(key)]
    assert not missing


def test_mismatched_catalogs_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "zh.yml").write_text("a: 甲\nb: 乙\n", encoding="utf-8")
    (tmp_path / "en.yml").write_text("a: A\n", encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(i18n.CatalogError, match="b"):
            i18n.catalog()
    finally:
        monkeypatch.undo()
        i18n.catalog.cache_clear()
