"""REDIS_URL and KEFU_REDIS_CA make one URL for every process; a bad combination is refused by name."""
from __future__ import annotations

import pytest

from kefu.config.errors import SettingsError
from kefu.config.redis_url import DEFAULT_REDIS_URL, redacted, redis_url


def test_the_ca_is_added_to_a_tls_url_once() -> None:
    url = redis_url({"REDIS_URL": "rediss://u:p@redis.shop:6380/2?socket_timeout=5", "KEFU_REDIS_CA": "/etc/ca x.pem"})
    assert url == "rediss://u:p@redis.shop:6380/2?socket_timeout=5&ssl_ca_certs=/etc/ca%20x.pem"
    assert redis_url({}) == DEFAULT_REDIS_URL
    # a child process gets the URL made here and the same KEFU_REDIS_CA: the same URL again
    assert redis_url({"REDIS_URL": url, "KEFU_REDIS_CA": "/etc/ca x.pem"}) == url


@pytest.mark.parametrize(("env", "named"), [
    ({"REDIS_URL": "redis://h:6379/0", "KEFU_REDIS_CA": "/ca.pem"}, "KEFU_REDIS_CA"),
    ({"REDIS_URL": "rediss://h:6379/0?ssl_ca_certs=/a.pem", "KEFU_REDIS_CA": "/b.pem"}, "two Redis CAs"),
    ({"REDIS_URL": "http://:secret@h:6379/0"}, "REDIS_URL"),
])
def test_a_bad_combination_is_refused_by_name(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named) as refused:
        redis_url(env)
    assert "secret" not in str(refused.value)


def test_redacted_hides_only_the_password() -> None:
    assert redacted("rediss://kefu:s3cret@10.0.0.5:6380/1?ssl_ca_certs=/ca.pem") == \
        "rediss://kefu:***@10.0.0.5:6380/1?ssl_ca_certs=/ca.pem"
    assert redacted("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"
