"""Signed identities: what the shop's server computes, and why an old, future or altered one is refused."""
from __future__ import annotations

import hashlib
import hmac
import shutil
import subprocess

import pytest

from kefu.core.identity import MAX_CLOCK_SKEW_S, IdentityRefused, sign_customer, verify_customer

SECRET = "shop-secret"
NOW = 1_762_000_000
DAY = 86_400


def verify(customer_id: str, issued_at: object, signature: str, now: int = NOW) -> None:
    verify_customer(customer_id, issued_at, signature, SECRET, max_age_s=DAY, now=now)


def refusal(customer_id: str, issued_at: object, signature: str, now: int = NOW) -> str:
    with pytest.raises(IdentityRefused) as refused:
        verify(customer_id, issued_at, signature, now)
    return str(refused.value)


def test_signature_is_the_readme_recipe() -> None:
    """The shop computes it without Kefu's code: HMAC-SHA256 hex of "<customer_id>:<issued_at>"."""
    signed = sign_customer("c1001", SECRET, issued_at=NOW)
    expected = hmac.new(SECRET.encode(), f"c1001:{NOW}".encode(), hashlib.sha256).hexdigest()
    assert (signed.customer_id, signed.issued_at, signed.signature) == ("c1001", NOW, expected)
    assert signed.hello_fields() == {"customer_id": "c1001", "issued_at": NOW, "signature": expected}


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl on this machine")
def test_openssl_recipe_gives_the_same_signature() -> None:
    shell = f"printf '%s:%s' c1001 {NOW} | openssl dgst -sha256 -hmac '{SECRET}' -r | cut -d' ' -f1"
    out = subprocess.run(["sh", "-c", shell], check=True, capture_output=True, text=True).stdout.strip()
    assert out == sign_customer("c1001", SECRET, issued_at=NOW).signature


def test_fresh_signature_is_accepted() -> None:
    signed = sign_customer("c1001", SECRET, issued_at=NOW - 60)
    verify("c1001", signed.issued_at, signed.signature)
    verify("c1001", str(signed.issued_at), signed.signature.upper())  # a data-attribute reads as text
    verify("c1001", NOW - DAY, sign_customer("c1001", SECRET, issued_at=NOW - DAY).signature)  # the last second


def test_default_issue_time_is_now() -> None:
    signed = sign_customer("c1001", SECRET)
    verify_customer("c1001", signed.issued_at, signed.signature, SECRET, max_age_s=60)


def test_signature_older_than_max_age_is_expired() -> None:
    old = NOW - DAY - 1
    assert refusal("c1001", old, sign_customer("c1001", SECRET, issued_at=old).signature) == "expired"


def test_signature_from_the_future_is_refused() -> None:
    ahead = NOW + MAX_CLOCK_SKEW_S + 1
    assert refusal("c1001", ahead, sign_customer("c1001", SECRET, issued_at=ahead).signature) == "bad_signature"
    slightly_ahead = NOW + MAX_CLOCK_SKEW_S  # a shop clock a little fast is tolerated
    verify("c1001", slightly_ahead, sign_customer("c1001", SECRET, issued_at=slightly_ahead).signature)


@pytest.mark.parametrize(
    ("customer_id", "issued_at", "signed_as"),
    [
        ("c1002", NOW, ("c1001", NOW)),  # another customer's signature
        ("c1001", NOW - 10, ("c1001", NOW)),  # issue time moved (to refresh an old signature)
        ("c1001", None, ("c1001", NOW)),  # no issue time: a signature from before expiry existed
        ("c1001", "soon", ("c1001", NOW)),
        ("c1001", True, ("c1001", 1)),
        ("c 1001", NOW, ("c 1001", NOW)),  # not a customer id
    ],
)
def test_altered_or_malformed_identity_is_refused(customer_id: str, issued_at: object,
                                                   signed_as: tuple[str, int]) -> None:
    signature = sign_customer(signed_as[0], SECRET, issued_at=signed_as[1]).signature
    assert refusal(customer_id, issued_at, signature, now=max(NOW, signed_as[1])) == "bad_signature"


def test_non_ascii_signature_is_refused_not_an_error() -> None:
    assert refusal("c1001", NOW, "签名" * 32) == "bad_signature"


def test_expired_is_told_only_for_a_genuine_signature() -> None:
    """A forged old identity is a bad signature: "expired" would confirm the guess was close."""
    old = NOW - DAY - 1
    assert refusal("c1001", old, sign_customer("c1001", "wrong", issued_at=old).signature) == "bad_signature"
