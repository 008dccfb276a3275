"""WeChat's customer-service message API through wechatpy, with one access_token shared by every process.

WeChat invalidates the previous access_token whenever a new one is fetched, so two gateway processes
refreshing on their own would keep breaking each other. The token lives in Redis (wechatpy's RedisStorage)
and only the holder of a Redis lock fetches a new one; the others wait and read it.
wechatpy's client is synchronous (requests): calls go through ``asyncio.to_thread``.
"""
from __future__ import annotations

import asyncio
import logging
import threading

import redis
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.redisstorage import RedisStorage

from kefu.core import keys

log = logging.getLogger(__name__)

TOKEN_MARGIN_S = 300
LOCK_TIMEOUT_S = 15
# Errors that mean "this reply cannot reach the customer now": keep it on the conversation for an agent.
UNDELIVERABLE = {
    45015: "window_closed",   # more than 48 hours since the customer's last message
    45047: "quota_exceeded",  # too many customer-service messages without a reply from the customer
    43004: "unsubscribed",
    40003: "unknown_user",
}


class DeliveryFailed(RuntimeError):
    """The message did not reach the customer; ``reason`` says why (kept on the transcript for agents)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SharedTokenStorage(RedisStorage):
    """wechatpy's Redis session storage, expiring the token a little before WeChat does."""

    def set(self, key: str, value: object, ttl: int | None = None) -> None:
        super().set(key, value, max(60, ttl - TOKEN_MARGIN_S) if ttl else None)


class SharedTokenClient(WeChatClient):
    """wechatpy's WeChatClient whose token fetch is serialised across processes by a Redis lock."""

    def __init__(self, appid: str, secret: str, redis_url: str, api_base_url: str, timeout: float = 5.0) -> None:
        self._redis = redis.Redis.from_url(redis_url, decode_responses=True)
        super().__init__(appid, secret, session=SharedTokenStorage(self._redis, prefix=keys.WECHAT_PREFIX), timeout=timeout)
        self.API_BASE_URL = api_base_url if api_base_url.endswith("/") else api_base_url + "/"
        self._used = threading.local()

    @property
    def access_token(self) -> str:
        token = self.session.get(self.access_token_key)
        if not token:
            self.fetch_access_token()
            token = self.session.get(self.access_token_key)
        self._used.token = token
        return token

    def fetch_access_token(self) -> dict:
        """Fetch a new token unless another process replaced the one we used meanwhile."""
        used = getattr(self._used, "token", None)
        with self._redis.lock(keys.wechat_token_lock(self.appid), timeout=LOCK_TIMEOUT_S,
                              blocking_timeout=LOCK_TIMEOUT_S):
            current = self.session.get(self.access_token_key)
            if current and current != used:
                return {"access_token": current}
            return self._fetch_access_token(
                url=f"{self.API_BASE_URL}token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    def close(self) -> None:
        self._http.close()
        self._redis.close()


class CustomerServiceApi:
    """Sends text to a WeChat user (openid); raises DeliveryFailed with a reason agents can read."""

    def __init__(self, client: SharedTokenClient) -> None:
        self.client = client

    async def send_text(self, openid: str, text: str) -> None:
        await asyncio.to_thread(self._send_text, openid, text)

    def _send_text(self, openid: str, text: str) -> None:
        try:
            self.client.message.send_text(openid, text)
        except WeChatClientException as error:
            reason = UNDELIVERABLE.get(error.errcode or 0, f"wechat_error_{error.errcode}")
            log.warning("wechat: message to %s not delivered: %s (%s)", openid, reason, error.errmsg)
            raise DeliveryFailed(reason) from None
        except (requests.RequestException, redis.RedisError) as error:
            log.warning("wechat: message to %s not delivered: %s", openid, error)
            raise DeliveryFailed("unreachable") from None

    def close(self) -> None:
        self.client.close()
