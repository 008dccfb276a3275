"""Console events keep the JSON consoles have always received: ``type`` first, optional fields only when set."""
from __future__ import annotations

from kefu.handoff.events import (
    Board,
    Claimed,
    Finished,
    FollowUpAlert,
    Merged,
    Message,
    Note,
    Presence,
    Queued,
    Routed,
)

ITEM = {"ticket_id": "T-100901", "team": "safety"}


def test_each_event_has_its_wire_form() -> None:
    assert Queued(ITEM).to_dict() == {"type": "queued", "item": ITEM}
    assert Queued(ITEM, by="ann").to_dict() == {"type": "queued", "item": ITEM, "by": "ann"}
    assert Claimed(ITEM, by="ann").to_dict() == {"type": "claimed", "item": ITEM, "by": "ann"}
    assert Finished(ITEM).to_dict() == {"type": "finished", "item": ITEM}
    assert Merged("visitor:1", ITEM).to_dict() == {"type": "merged", "from": "visitor:1", "item": ITEM}
    assert Message("T-1", {"text": "hi"}).to_dict() == {"type": "message", "ticket": "T-1", "entry": {"text": "hi"}}
    assert Note("T-1", {"text": "n"}).to_dict() == {"type": "note", "ticket": "T-1", "note": {"text": "n"}}
    assert Presence("ann", "away").to_dict() == {"type": "presence", "agent": "ann", "status": "away"}
    assert Routed("T-1", "safety").to_dict() == {"type": "routed", "ticket_id": "T-1", "team": "safety"}
    assert FollowUpAlert("soon", ITEM).to_dict() == {"type": "followup", "stage": "soon", "item": ITEM}
    assert FollowUpAlert("kept", {"ticket_id": "T-1"}, by="ann").to_dict() == {
        "type": "followup", "stage": "kept", "item": {"ticket_id": "T-1"}, "by": "ann"}


def test_the_board_is_the_socket_snapshot_and_the_queue_api_body() -> None:
    board = Board(me={"user": "ann", "role": "agent"}, queue=[ITEM], assigned=[], presence={})
    assert list(board.to_dict()) == ["type", "me", "queue", "assigned", "presence"]
    assert board.to_dict()["type"] == "board"
    assert board.contents() == {"queue": [ITEM], "assigned": [], "presence": {}}
