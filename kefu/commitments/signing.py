"""Signing the shop's order-event requests: HMAC-SHA256 of ``<timestamp>.<raw body>``, hex, in a header.

The timestamp is inside the signed text, so it cannot be moved forward to replay an old request; a request
outside the clock window is refused before its body is read as JSON.
"""
from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
SCHEME = "sha256="


class SignatureRefused(ValueError):
    """``code`` is the webhook's error code (HTTP 401)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The header value for this body at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """What a sender (the shop, the demo) puts on a request."""
    timestamp = int(time.time() if now is None else now)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature(secret, timestamp, body),
            "Content-Type": "application/json"}


def verify(secret: str, timestamp: str | None, given: str | None, body: bytes, now: float, window_s: int) -> str:
    """The verified signature (the replay key), or SignatureRefused."""
    if not given:
        raise SignatureRefused("missing_signature", f"{SIGNATURE_HEADER} is missing")
    if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureRefused("bad_timestamp", f"{TIMESTAMP_HEADER} must be unix seconds")
    if abs(now - int(timestamp)) > window_s:
        raise SignatureRefused("stale_timestamp", f"{TIMESTAMP_HEADER} is more than {window_s} s from our clock")
    if not hmac.compare_digest(given.strip().lower().encode(), signature(secret, timestamp, body).encode()):
        raise SignatureRefused("bad_signature", "the signature does not match the body")
    return given.strip().lower().removeprefix(SCHEME)
