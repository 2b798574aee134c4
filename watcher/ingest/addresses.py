"""Which addresses a feed may be fetched from (issue 16): public ones, and private ones named.

A feed URL, or a redirect, that leads to a loopback, private, link-local, multicast, reserved
or unspecified address could make watcher read and mail what only this machine can reach
(a cloud metadata service at 169.254.169.254, an admin page on 127.0.0.1). Those addresses
are refused unless WATCHER_ALLOW_PRIVATE names them, and even then only for the host the
feed's own configured URL names: a redirect never moves to a private address.

Pure: the transport (watcher/ingest/transport.py) resolves each host once, asks `refusal` about
every address, and connects to the address it checked.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ENV = "WATCHER_ALLOW_PRIVATE"
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")            # RFC 6052: the last 32 bits are IPv4
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")          # deprecated ::a.b.c.d
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})*")
# Why an address is not public, in the words the feed's state shows; first match wins.
_KINDS: list[tuple[str, Callable[[Address], bool]]] = [
    ("unspecified", lambda ip: ip.is_unspecified),
    ("loopback", lambda ip: ip.is_loopback),
    ("link-local", lambda ip: ip.is_link_local),
    ("multicast", lambda ip: ip.is_multicast),
    ("private", lambda ip: ip.is_private),
    ("reserved", lambda ip: ip.is_reserved),
    ("site-local", lambda ip: isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
    ("non-public", lambda ip: not ip.is_global),
]


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: IPv4-mapped, 6to4, NAT64, IPv4-compatible."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def private_kind(ip: Address) -> str | None:
    """'loopback', 'link-local'… for an address that is not public; None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and (inner := embedded_ipv4(ip)) is not None:
        return private_kind(inner)          # ::ffff:127.0.0.1 is loopback, 2002:7f00:1:: too
    return next((kind for kind, test in _KINDS if test(ip)), None)


@dataclass(frozen=True)
class AddressPolicy:
    """WATCHER_ALLOW_PRIVATE: the private hosts and ranges feeds may be fetched from."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    def names(self, host: str, ip: Address) -> bool:
        """Whether the setting names this host, or a range holding this address."""
        inner = embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
        return (_host_key(host) in self.hosts
                or any(a in n for n in self.networks for a in (ip, inner) if a is not None
                       and a.version == n.version))

    def refusal(self, feed_host: str, host: str, ip: Address) -> str | None:
        """Why `host` at `ip` may not be fetched for a feed whose URL names `feed_host`;
        None when it may. A private address must be named and be the feed's own host."""
        kind = private_kind(ip)
        if kind is None:
            return None
        where = _host_key(host) if _literal(host) == ip else f"{host} ({ip})"
        a_kind = ("an " if kind[0] in "aeiou" else "a ") + kind
        if _host_key(host) != _host_key(feed_host):
            return f"refused: a redirect to {where}, {a_kind} address the feed's URL does not name"
        if not self.names(host, ip):
            return f"refused: {where} is {a_kind} address (allow it with {ENV})"
        return None


    def proxy_refusal(self, host: str, ip: Address) -> str | None:
        """Why a feed's proxy at `ip` may not be used; None when it may. A proxy is named in
        indicators.yaml, like a feed's URL, so a private one must be named here too."""
        kind = private_kind(ip)
        if kind is None or self.names(host, ip):
            return None
        where = _host_key(host) if _literal(host) == ip else f"{host} ({ip})"
        a_kind = ("an " if kind[0] in "aeiou" else "a ") + kind
        return f"refused: the proxy {where} is {a_kind} address (allow it with {ENV})"

    def named_refusal(self, feed_host: str, host: str) -> str | None:
        """Through a proxy, which resolves names itself: what can be told from the URL alone,
        an address literal or a localhost name, checked like a resolved address."""
        key = _host_key(host)
        ip = _literal(host)
        if ip is None and (key == "localhost" or key.endswith(".localhost")):
            ip = ipaddress.ip_address("127.0.0.1")
        return None if ip is None else self.refusal(feed_host, host, ip)


NO_PRIVATE = AddressPolicy()      # the default: public addresses only


def parse_policy(value: str | None) -> tuple[AddressPolicy, list[str]]:
    """WATCHER_ALLOW_PRIVATE ('127.0.0.1, 10.0.0.0/8, feeds.internal') → a policy and the
    entries that are neither a host name nor an address range."""
    hosts: set[str] = set()
    networks: list[Network] = []
    problems = []
    for entry in (value or "").replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            if _HOST.fullmatch(_host_key(entry)):
                hosts.add(_host_key(entry))
            else:
                problems.append(f"{ENV}: {entry!r} is neither a host name nor an address range "
                                "like 10.0.0.0/8")
    return AddressPolicy(frozenset(hosts), tuple(networks)), problems


def _literal(host: str) -> Address | None:
    """The address a host that is an address literal names."""
    try:
        return ipaddress.ip_address(_host_key(host))
    except ValueError:
        return None


def _host_key(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")
