"""Rasa's Redis lock store, connected through one URL (Kefu's ``REDIS_URL``) instead of host, port and password.

Rasa's ``type: redis`` lock store takes ``use_ssl`` and friends as separate settings, and endpoints.yml can only
give it strings from the environment (``"false"`` would switch TLS on). Built from the URL, password, TLS
(``rediss://``) and the CA (``?ssl_ca_certs=``) come from the same string every Kefu process reads. Configured in
endpoints.yml as ``type: rasa_addons.redis_lock_store.UrlRedisLockStore`` with ``redis_url`` and ``key_prefix``.
"""
from __future__ import annotations

import redis
from rasa.core.lock_store import DEFAULT_SOCKET_TIMEOUT_IN_SECONDS, RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class UrlRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig) -> None:
        options = endpoint_config.kwargs
        timeout = float(options.get("socket_timeout") or DEFAULT_SOCKET_TIMEOUT_IN_SECONDS)
        super().__init__(key_prefix=options.get("key_prefix"), socket_timeout=timeout)
        url = options.get("redis_url") or endpoint_config.url
        if not url:
            raise ValueError("lock_store: set redis_url (Kefu's REDIS_URL) in endpoints.yml")
        self.red = redis.StrictRedis.from_url(url, socket_timeout=timeout)
