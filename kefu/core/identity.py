"""Who is chatting: a shop signs its signed-in customer's id and an issue time with a shared secret.

The signature is HMAC-SHA256, hex, over ``"<customer_id>:<issued_at>"`` (unix seconds), so a shop's server
computes it in a few lines of any language (README, "Putting the widget on a shop's page"). The issue time
makes a signature seen once (a shared screenshot, a proxy log, a cached page) stop working after the
configured max age instead of being access to that customer's orders forever.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_.@:-]{1,64}$")
ISSUED_AT = re.compile(r"^[0-9]{1,12}$")
# How far ahead of our clock a shop's clock may run; further is refused, or a shop could mint signatures
# that stay valid for years by dating them in the future.
MAX_CLOCK_SKEW_S = 300


class IdentityRefused(ValueError):
    """The signed identity is not accepted; ``str(error)`` is the web chat's error code."""


@dataclass(frozen=True)
class SignedCustomer:
    """What the shop puts in its page (the widget's data attributes) and the widget sends in its hello."""

    customer_id: str
    issued_at: int
    signature: str

    def hello_fields(self) -> dict[str, str | int]:
        return {"customer_id": self.customer_id, "issued_at": self.issued_at, "signature": self.signature}


def _mac(customer_id: str, issued_at: int, secret: str) -> str:
    # ``issued_at`` is digits only, so the last ':' splits the message unambiguously (customer ids may hold ':').
    return hmac.new(secret.encode(), f"{customer_id}:{issued_at}".encode(), hashlib.sha256).hexdigest()


def sign_customer(customer_id: str, secret: str, issued_at: int | None = None) -> SignedCustomer:
    """What the shop's server computes when it renders the page; ``issued_at`` defaults to now."""
    issued = int(time.time()) if issued_at is None else issued_at
    return SignedCustomer(customer_id, issued, _mac(customer_id, issued, secret))


def _issue_time(raw: object) -> int:
    """The hello's ``issued_at`` as seconds: a JSON number, or digits (the widget reads a data attribute)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    if isinstance(raw, str) and ISSUED_AT.match(raw):
        return int(raw)
    raise IdentityRefused("bad_signature")


def verify_customer(
    customer_id: str, issued_at: object, signature: str, secret: str, *, max_age_s: int, now: float | None = None
) -> None:
    """Accept a signed identity or raise IdentityRefused: ``expired`` when genuine but older than ``max_age_s``
    (the widget's page must be reloaded), ``bad_signature`` for anything else.

    The signature is checked (in constant time) before the age, so "expired" is only ever said of a signature
    we made: it tells a forger nothing.
    """
    if not CUSTOMER_ID.match(customer_id):
        raise IdentityRefused("bad_signature")
    issued = _issue_time(issued_at)
    # Bytes, not str: compare_digest raises on a non-ASCII str, and the signature comes from the client.
    if not hmac.compare_digest(_mac(customer_id, issued, secret).encode(), signature.lower().encode()):
        raise IdentityRefused("bad_signature")
    age = (time.time() if now is None else now) - issued
    if age < -MAX_CLOCK_SKEW_S:
        raise IdentityRefused("bad_signature")
    if age > max_age_s:
        raise IdentityRefused("expired")


def customer_conversation(customer_id: str) -> str:
    """One conversation per customer, whatever channel they write on."""
    return f"cust:{customer_id}"


def visitor_conversation(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"
