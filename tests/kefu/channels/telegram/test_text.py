"""Cutting long replies into messages Telegram accepts (4096 UTF-16 code units each)."""
from __future__ import annotations

import pytest

from kefu.channels.telegram.text import MAX_MESSAGE_UNITS, split_message, utf16_units

SMILE = "\U0001f600"  # outside the BMP: two UTF-16 code units
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji of five characters joined by ZWJ


def test_length_is_counted_in_utf16_code_units() -> None:
    assert utf16_units("") == 0
    assert utf16_units("abc") == 3
    assert utf16_units("订单到哪了") == 5  # CJK is in the BMP: one unit each
    assert utf16_units(SMILE) == 2
    assert utf16_units(f"ok {SMILE}{SMILE}") == 7
    assert utf16_units(FAMILY) == len(FAMILY.encode("utf-16-le")) // 2 == 8


@pytest.mark.parametrize("text", ["", "hello", "a" * MAX_MESSAGE_UNITS, SMILE * (MAX_MESSAGE_UNITS // 2),
                                  "a " * (MAX_MESSAGE_UNITS // 2)])
def test_text_that_fits_is_one_message_unchanged(text: str) -> None:
    assert split_message(text) == [text]


def test_one_unit_over_the_limit_makes_two_messages() -> None:
    assert split_message("a" * (MAX_MESSAGE_UNITS + 1)) == ["a" * MAX_MESSAGE_UNITS, "a"]


def test_an_emoji_that_would_straddle_the_limit_moves_whole_to_the_next_message() -> None:
    # 4095 code points fit either way; counted in code points the emoji would fit too, in UTF-16 units it does not.
    text = "a" * (MAX_MESSAGE_UNITS - 1) + SMILE
    assert split_message(text) == ["a" * (MAX_MESSAGE_UNITS - 1), SMILE]


def test_emoji_only_text_is_cut_between_emoji_and_every_part_fits() -> None:
    text = SMILE * 5000  # 10,000 units
    parts = split_message(text)
    assert [utf16_units(part) for part in parts] == [4096, 4096, 1808]
    assert "".join(parts) == text
    for part in parts:
        part.encode("utf-16-le", errors="strict")  # no lone surrogate anywhere


def test_a_paragraph_break_is_preferred_to_a_later_line_sentence_or_space() -> None:
    text = "a" * 30 + "\n\n" + "b" * 10 + "\nc. d" + "e" * 30
    assert split_message(text, limit=50) == ["a" * 30, "b" * 10 + "\nc. d" + "e" * 30]


def test_a_line_end_is_preferred_to_a_later_sentence_end_or_space() -> None:
    text = "a" * 30 + "\n" + "b. c d" + "e" * 30
    assert split_message(text, limit=50) == ["a" * 30, "b. c d" + "e" * 30]


def test_a_sentence_end_is_preferred_to_a_later_space() -> None:
    text = "Your parcel left the warehouse. It is on its way to you now"
    assert split_message(text, limit=40) == ["Your parcel left the warehouse.", "It is on its way to you now"]


def test_a_chinese_sentence_end_needs_no_space() -> None:
    text = "您的包裹已经发出。" * 3 + "预计明天送达请注意查收"
    assert split_message(text, limit=30) == ["您的包裹已经发出。" * 3, "预计明天送达请注意查收"]


def test_otherwise_the_last_space_before_the_limit() -> None:
    text = "where is my parcel please tell me"
    assert split_message(text, limit=20) == ["where is my parcel", "please tell me"]


def test_a_space_just_past_the_limit_is_a_boundary_and_is_dropped() -> None:
    assert split_message("a" * 10 + " " + "b" * 5, limit=10) == ["a" * 10, "b" * 5]


def test_a_sentence_end_just_past_the_limit_does_not_stretch_the_message() -> None:
    text = "包裹" * 5 + "。明天到"  # the full stop is the 11th character
    parts = split_message(text, limit=10)
    assert parts == ["包裹" * 5, "。明天到"]


def test_a_boundary_in_the_first_half_is_not_used_so_no_message_is_tiny() -> None:
    text = "ab\n\n" + "c" * 60
    assert split_message(text, limit=40) == ["ab\n\n" + "c" * 36, "c" * 24]


def test_text_without_any_boundary_is_cut_hard_but_not_inside_a_joined_emoji() -> None:
    text = "x" * 36 + FAMILY + "y" * 10  # the limit falls inside the family emoji
    parts = split_message(text, limit=40)
    assert parts == ["x" * 36, FAMILY + "y" * 10]


def test_a_long_reply_keeps_its_words_and_order_and_every_part_fits() -> None:
    words = [f"word{i:05d}" for i in range(2000)]
    text = " ".join(words) + f" {SMILE}" * 2000
    parts = split_message(text)
    assert all(utf16_units(part) <= MAX_MESSAGE_UNITS for part in parts)
    assert all(utf16_units(part) > MAX_MESSAGE_UNITS // 2 for part in parts[:-1])
    assert " ".join(parts).split() == text.split()


def test_a_limit_too_small_for_one_emoji_is_refused() -> None:
    with pytest.raises(ValueError):
        split_message("hello", limit=1)
