"""Is this request really from WeChat? Signatures in constant time, fresh timestamps, and safe-mode AES.

wechatpy computes the signatures and does the AES work; the comparisons are ours (``hmac.compare_digest``,
where wechatpy uses ``!=``). The previous EncodingAESKey is still accepted after a key rotation, because
WeChat may retry a message encrypted with it; replies always use the current key.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import struct

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import WeChatSigner

MAX_AGE_S = 300


class VerificationError(ValueError):
    """The request cannot be trusted; ``status`` is the HTTP status to refuse it with."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    """The 32-byte key behind a 43-character EncodingAESKey; ValueError when it is not one."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("an EncodingAESKey is 43 characters of base64") from None
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise ValueError("an EncodingAESKey is 43 characters of base64")
    return key


class WeChatVerifier:
    """Checks what WeChat signs and decrypts what it encrypts, for one official account."""

    def __init__(self, token: str, appid: str, aes_keys: tuple[str, ...] = ()) -> None:
        self.token = token
        self.appid = appid
        self.aes_keys = tuple(k for k in aes_keys if k)
        self._ciphers = tuple(PrpCrypto(aes_key_bytes(k)) for k in self.aes_keys)

    @property
    def safe_mode(self) -> bool:
        return bool(self.aes_keys)

    def sign(self, *parts: str) -> str:
        signer = WeChatSigner()
        signer.add_data(self.token, *parts)
        return signer.signature

    def check_signature(self, signature: str | None, *parts: str) -> None:
        if not signature:
            raise VerificationError("missing signature")
        if not hmac.compare_digest(self.sign(*parts).encode(), signature.encode()):
            raise VerificationError("bad signature")

    @staticmethod
    def check_fresh(timestamp: str | None, now: float) -> int:
        """The timestamp as an int, if it is within MAX_AGE_S of now (either way: clocks drift)."""
        if not timestamp or not timestamp.isdigit() or len(timestamp) > 12:
            raise VerificationError("missing or malformed timestamp", 400)
        value = int(timestamp)
        if abs(now - value) > MAX_AGE_S:
            raise VerificationError("timestamp too old")
        return value

    def decrypt(self, encrypted: str) -> str:
        """The inner XML of a safe-mode message, trying the current key, then the previous one."""
        try:
            base64.b64decode(encrypted, validate=True)
        except (binascii.Error, ValueError):
            raise VerificationError("bad base64", 400) from None
        if not self._ciphers:
            raise VerificationError("encrypted message but no EncodingAESKey is configured", 400)
        for cipher in self._ciphers:
            try:
                return cipher.decrypt(encrypted, self.appid)
            except InvalidAppIdException:
                continue  # wrong key gives a garbage appid too; the next key may be the right one
            except (ValueError, struct.error, IndexError, UnicodeDecodeError):
                continue
        raise VerificationError("cannot decrypt: wrong appid or key", 400)

    def encrypt_reply(self, xml: str, nonce: str, timestamp: int) -> str:
        """The reply XML wrapped the way safe mode expects (current key, signed)."""
        crypto = WeChatCrypto(self.token, self.aes_keys[0], self.appid)
        return crypto.encrypt_message(xml, nonce, timestamp)
