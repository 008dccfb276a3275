"""Which address the limits count: the peer, or behind a trusted proxy the client it names; IPv6 by /64."""
from __future__ import annotations

import ipaddress

import pytest
from aiohttp.test_utils import make_mocked_request

from kefu.channels.webchat.address import client_address, limit_key

PROXY = (ipaddress.ip_network("10.0.0.0/8"),)


def request(peer: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    req = make_mocked_request("GET", "/ws/chat", headers=headers)
    return req.clone(remote=peer)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("203.0.113.5", "198.51.100.1", (), "203.0.113.5"),  # no proxy configured: the header is anyone's
        ("203.0.113.5", "198.51.100.1", PROXY, "203.0.113.5"),  # not from the proxy: ignored
        ("10.1.2.3", "198.51.100.1", PROXY, "198.51.100.1"),
        ("10.1.2.3", "6.6.6.6, 198.51.100.1, 10.9.9.9", PROXY, "198.51.100.1"),  # the nearest untrusted hop
        ("10.1.2.3", "not-an-address", PROXY, "10.1.2.3"),
        ("10.1.2.3", None, PROXY, "10.1.2.3"),
    ],
)
def test_client_address(peer: str, forwarded: str | None, trusted: tuple, client: str) -> None:
    assert client_address(request(peer, forwarded), trusted) == client


def test_ipv6_is_counted_by_its_64_network() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert limit_key("2001:db8:1:3::1") != limit_key("2001:db8:1:2::1")
    assert limit_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert limit_key("203.0.113.5") == "203.0.113.5"
