"""The links a process last saw: a bounded guess (the inbox's script checks it)."""
from __future__ import annotations

from kefu.channels.recent_links import RecentLinks


def test_an_unseen_user_is_guessed_unlinked_and_a_seen_one_as_last_seen() -> None:
    links = RecentLinks()
    assert links.get("oAlice") is None
    links.remember("oAlice", "c1")
    assert links.get("oAlice") == "c1"
    links.remember("oAlice", None)  # unlinked
    assert links.get("oAlice") is None


def test_the_oldest_entry_goes_when_full_and_remembering_again_makes_one_young() -> None:
    links = RecentLinks(size=2)
    links.remember("a", "c1")
    links.remember("b", "c2")
    links.remember("a", "c1")
    links.remember("c", "c3")
    assert (links.get("a"), links.get("b"), links.get("c")) == ("c1", None, "c3")
