"""Who is on the other end of a web-chat socket, as the limits count it: one address, or one IPv6 /64.

Behind a reverse proxy the socket's peer is the proxy; only a proxy the shop trusts (KEFU_TRUSTED_PROXIES)
may name the client in ``X-Forwarded-For``, otherwise any client could pick a fresh address per request.
"""
from __future__ import annotations

import ipaddress

from aiohttp import web

from kefu.config.webchat import Network

IPV6_SUBNET = 64  # one household or phone gets a whole /64: counting single addresses would be no limit


def client_address(request: web.Request, trusted_proxies: tuple[Network, ...]) -> str:
    """The socket's peer, or with a trusted proxy in front, the nearest hop it reports that is not trusted."""
    peer = request.remote or ""
    if not trusted_proxies or not _trusted(peer, trusted_proxies):
        return peer
    hops = [h.strip() for header in request.headers.getall("X-Forwarded-For", ()) for h in header.split(",")]
    for hop in reversed(hops):
        if not hop:
            continue
        if _parse(hop) is None:
            return peer  # a proxy that forwards garbage: count the proxy rather than trust the header
        if not _trusted(hop, trusted_proxies):
            return hop
    return peer


def limit_key(address: str) -> str:
    """What the per-address limits count: the address, or for IPv6 its /64 network."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((parsed, IPV6_SUBNET), strict=False))
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(parsed.ipv4_mapped)
    return address or "unknown"


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _trusted(address: str, trusted_proxies: tuple[Network, ...]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in network for network in trusted_proxies)
