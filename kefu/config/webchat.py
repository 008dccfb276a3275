"""Web chat's limits (issue 9, defect 5) and the proxies whose ``X-Forwarded-For`` names the client, read once.

The limits keep one client address or one conversation from taking the gateway (and the agents' queue) for
itself: open sockets, messages per minute, and new anonymous visitors per hour. Counted in Redis, so every
gateway process shares them. 0 turns a limit off.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from kefu.config.env import integer, text
from kefu.config.errors import SettingsError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class WebChatSettings:
    # Tabs of one shop open at once by one customer (each holds a socket); more is rarely a person.
    sockets_per_conversation: int = 10
    # One address can be an office or a mobile carrier's NAT: generous, but a flood of sockets stops here
    # long before the gateway runs out of file descriptors.
    sockets_per_address: int = 50
    # A person types a few messages a minute; buttons and a flushed outbox add a few more.
    messages_per_minute_per_conversation: int = 20
    messages_per_minute_per_address: int = 120
    # Fresh anonymous visitor ids that start a conversation, per address and hour: each can open an urgent
    # safety ticket, so a script inventing ids is stopped here (signed-in customers are not counted).
    new_visitors_per_hour_per_address: int = 60
    # Reverse proxies in front of the gateway (addresses or networks): behind one of them the client is the
    # last address in X-Forwarded-For that is not itself a trusted proxy. Empty: the socket's peer is the client.
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def without_limits(cls) -> WebChatSettings:
        """For benches and load tests that drive hundreds of conversations from one loopback address."""
        return cls(0, 0, 0, 0, 0)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebChatSettings:
        env = os.environ if env is None else env
        defaults = cls()

        def limit(name: str, default: int) -> int:
            value = integer(env, name, default)
            if value < 0:
                raise SettingsError(f"{name} must be 0 (no limit) or a positive integer, got {value}")
            return value

        return cls(
            sockets_per_conversation=limit("KEFU_WEBCHAT_SOCKETS_PER_CONVERSATION", defaults.sockets_per_conversation),
            sockets_per_address=limit("KEFU_WEBCHAT_SOCKETS_PER_ADDRESS", defaults.sockets_per_address),
            messages_per_minute_per_conversation=limit("KEFU_WEBCHAT_MESSAGES_PER_MINUTE_PER_CONVERSATION",
                                                       defaults.messages_per_minute_per_conversation),
            messages_per_minute_per_address=limit("KEFU_WEBCHAT_MESSAGES_PER_MINUTE_PER_ADDRESS",
                                                  defaults.messages_per_minute_per_address),
            new_visitors_per_hour_per_address=limit("KEFU_WEBCHAT_NEW_VISITORS_PER_HOUR_PER_ADDRESS",
                                                    defaults.new_visitors_per_hour_per_address),
            trusted_proxies=_networks(text(env, "KEFU_TRUSTED_PROXIES"), "KEFU_TRUSTED_PROXIES"),
        )


def _networks(raw: str, name: str) -> tuple[Network, ...]:
    networks = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    return tuple(networks)
