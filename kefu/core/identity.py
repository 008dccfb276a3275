"""Who is chatting: a shop signs its signed-in customer's id with a shared secret (HMAC-SHA256, hex)."""
from __future__ import annotations

import hashlib
import hmac
import re

VISITOR_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
CUSTOMER_ID = re.compile(r"^[A-Za-z0-9_.@:-]{1,64}$")


def sign_customer(customer_id: str, secret: str) -> str:
    """What the shop's server computes and puts in the page, next to the customer id."""
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def verify_customer(customer_id: str, signature: str, secret: str) -> bool:
    if not CUSTOMER_ID.match(customer_id):
        return False
    return hmac.compare_digest(sign_customer(customer_id, secret), signature.lower())


def customer_conversation(customer_id: str) -> str:
    """One conversation per customer, whatever channel they write on."""
    return f"cust:{customer_id}"


def visitor_conversation(visitor_id: str) -> str:
    return f"visitor:{visitor_id}"
