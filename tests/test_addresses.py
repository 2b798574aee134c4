"""Which addresses a feed may reach (issue 16): pure rules, no network."""

from __future__ import annotations

import ipaddress

import pytest

from watcher.errors import ConfigError
from watcher.ingest.addresses import parse_policy, private_kind
from watcher.settings import load_settings


@pytest.mark.parametrize(("address", "kind"), [
    ("127.0.0.1", "loopback"), ("127.0.0.2", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("0.0.0.0", "unspecified"),
    ("::", "unspecified"), ("240.0.0.1", "private"), ("100.64.0.1", "non-public"),
    ("fec0::1", "site-local"),
    # IPv6 forms that lead to an IPv4 address are judged by that address
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:169.254.169.254", "link-local"),
    ("2002:7f00:1::", "loopback"), ("2002:a9fe:a9fe::1", "link-local"),
    ("64:ff9b::a9fe:a9fe", "link-local"), ("::10.0.0.1", "private"),
    ("8.8.8.8", None), ("2606:4700::1111", None), ("::ffff:8.8.8.8", None),
    ("2002:808:808::", None), ("64:ff9b::808:808", None),
])
def test_every_kind_of_non_public_address_is_named(address: str, kind: str | None) -> None:
    assert private_kind(ipaddress.ip_address(address)) == kind


def test_a_named_host_or_range_is_allowed_for_the_feeds_own_host_only() -> None:
    policy, problems = parse_policy("127.0.0.1, 10.0.0.0/8 feeds.internal. [::1]")
    assert problems == []
    ip = ipaddress.ip_address
    assert policy.refusal("127.0.0.1", "127.0.0.1", ip("127.0.0.1")) is None
    assert policy.refusal("10.2.3.4", "10.2.3.4", ip("10.2.3.4")) is None
    assert policy.refusal("Feeds.Internal", "feeds.internal", ip("192.168.7.7")) is None
    assert policy.refusal("::1", "[::1]", ip("::1")) is None
    assert policy.refusal("x.test", "x.test", ip("::ffff:127.0.0.1")) is None   # mapped 127.0.0.1
    assert policy.refusal("x.test", "x.test", ip("192.168.7.7")) == \
        "refused: x.test (192.168.7.7) is a private address (allow it with WATCHER_ALLOW_PRIVATE)"
    assert policy.refusal("feeds.internal", "10.2.3.4", ip("10.2.3.4")) == \
        "refused: a redirect to 10.2.3.4, a private address the feed's URL does not name"
    assert policy.refusal("feeds.internal", "news.example", ip("93.184.216.34")) is None


def test_a_bad_allow_private_entry_is_named_at_start() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"WATCHER_ALLOW_PRIVATE": "127.0.0.1, 10.0.0.0/33, bad host!"})
    why = "is neither a host name nor an address range like 10.0.0.0/8"
    assert caught.value.problems == [f"WATCHER_ALLOW_PRIVATE: '10.0.0.0/33' {why}",
                                     f"WATCHER_ALLOW_PRIVATE: 'host!' {why}"]
    assert load_settings({}).allow_private == parse_policy("")[0]     # nothing private by default
