"""The order-event contract and its signature: what is accepted, and every way a request is refused."""
from __future__ import annotations

import json

import pytest

from kefu.commitments.events import TYPES, EventRefused, event_from_dict, parse_event
from kefu.commitments.signing import SignatureRefused, signature, signed_headers, verify
from kefu.orders.demo import DEMO_EVENT_TYPES

SECRET = "shop-secret"


def test_a_full_event_is_read() -> None:
    event = parse_event(json.dumps({"id": "evt-1", "type": "delayed", "order_id": "dd20261104004",
                                    "occurred_at": "2026-12-02T09:00:00+08:00",
                                    "data": {"expected_by": "2026-12-04T18:00:00+08:00"}}).encode())
    assert (event.id, event.type, event.order_id) == ("evt-1", "delayed", "DD20261104004")
    assert event.occurred_at is not None and event.occurred_at.utcoffset() is not None


@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "bad_json"),
    (b"\xff\xfe", "bad_json"),
    (b"[]", "invalid_event"),
    (json.dumps({"type": "shipped", "order_id": "DD1"}).encode(), "invalid_event"),
    (json.dumps({"id": "a b", "type": "shipped", "order_id": "DD1"}).encode(), "invalid_event"),
    (json.dumps({"id": "e", "type": "lost_in_space", "order_id": "DD1"}).encode(), "unknown_type"),
    (json.dumps({"id": "e", "type": "shipped"}).encode(), "invalid_event"),
    (json.dumps({"id": "e", "type": "shipped", "order_id": "DD1", "data": []}).encode(), "invalid_event"),
    (json.dumps({"id": "e", "type": "shipped", "order_id": "DD1", "occurred_at": "yesterday"}).encode(),
     "invalid_event"),
    (json.dumps({"id": "e", "type": "shipped", "order_id": "DD1", "occurred_at": "2026-12-02T09:00:00"}).encode(),
     "invalid_event"),
    (json.dumps({"id": "e", "type": "refund_completed", "order_id": "DD1", "data": {"amount": "lots"}}).encode(),
     "invalid_event"),
    (json.dumps({"id": "e", "type": "delayed", "order_id": "DD1", "data": {"expected_by": 3}}).encode(),
     "invalid_event"),
])
def test_malformed_events_are_refused_with_a_code(body: bytes, code: str) -> None:
    with pytest.raises(EventRefused) as refused:
        parse_event(body)
    assert refused.value.code == code
    assert refused.value.status == (400 if code == "bad_json" else 422)


def test_the_demo_emits_exactly_the_contract_types() -> None:
    assert DEMO_EVENT_TYPES == TYPES
    for kind in TYPES:
        assert event_from_dict({"id": f"e-{kind}", "type": kind, "order_id": "DD20261104002"}).type == kind


def test_a_signature_covers_the_timestamp_and_the_body() -> None:
    body = b'{"id":"e"}'
    headers = signed_headers(SECRET, body, now=1_000_000)
    timestamp, given = headers["X-Kefu-Timestamp"], headers["X-Kefu-Signature"]
    assert verify(SECRET, timestamp, given, body, 1_000_010, 300) == given.removeprefix("sha256=")
    refusals = {
        "missing_signature": (timestamp, None, body, 1_000_000),
        "bad_timestamp": ("soon", given, body, 1_000_000),
        "stale_timestamp": (timestamp, given, body, 1_000_301),
        "bad_signature": (timestamp, given, body + b" ", 1_000_000),
    }
    for code, (stamp, sig, signed_body, now) in refusals.items():
        with pytest.raises(SignatureRefused) as refused:
            verify(SECRET, stamp, sig, signed_body, now, 300)
        assert refused.value.code == code
    # Moving the timestamp forward to replay an old body breaks the signature.
    with pytest.raises(SignatureRefused, match="does not match"):
        verify(SECRET, str(1_000_200), given, body, 1_000_200, 300)
    with pytest.raises(SignatureRefused, match="does not match"):
        verify("another-secret", timestamp, given, body, 1_000_000, 300)
    assert signature(SECRET, 1, b"x") != signature(SECRET, 2, b"x")
