"""Where Redis is, with its password and TLS: one URL for every process (gateway, workers, the action server and
Rasa's tracker and lock stores), so they share one database and one way in.

``REDIS_URL`` takes redis-py's form: ``redis://[[user]:password@]host:port/db`` or, with TLS,
``rediss://user:password@host:port/db``. The CA that signed the server's certificate is either in the URL
(``?ssl_ca_certs=/path/ca.pem``, redis-py's own query argument) or in ``KEFU_REDIS_CA``, which is added to the URL
here, once, so every client (Rasa's included: kefu/ops/stack.py hands it the same URL) verifies the same way.
"""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from kefu.config.env import text
from kefu.config.errors import SettingsError

# The project-local Redis `make run` starts (kefu/ops/stack.py), apart from a system Redis on 6379.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6390/0"
SCHEMES = ("redis", "rediss", "unix")
CA_ARGUMENT = "ssl_ca_certs"


def redis_url(env: Mapping[str, str]) -> str:
    url = text(env, "REDIS_URL", DEFAULT_REDIS_URL)
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise SettingsError(f"REDIS_URL must start with redis://, rediss:// (TLS) or unix://, got {redacted(url)!r}")
    ca = text(env, "KEFU_REDIS_CA")
    if not ca:
        return url
    if parts.scheme != "rediss":
        raise SettingsError("KEFU_REDIS_CA is set but REDIS_URL is not rediss:// (TLS): use rediss://host:port/db")
    given = parse_qs(parts.query).get(CA_ARGUMENT)
    if given == [ca]:  # a child process, handed the URL this function made, and the same environment
        return url
    if given:
        raise SettingsError(f"two Redis CAs: KEFU_REDIS_CA and REDIS_URL's ?{CA_ARGUMENT}= differ; give one")
    query = "&".join(filter(None, [parts.query, f"{CA_ARGUMENT}={quote(ca, safe='/')}"]))
    return urlunsplit(parts._replace(query=query))


def uses_tls(url: str) -> bool:
    return urlsplit(url).scheme == "rediss"


def has_password(url: str) -> bool:
    return bool(urlsplit(url).password)


def redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
