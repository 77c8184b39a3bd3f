"""Core layer: the SSRF guard — which IP addresses outgoing requests may connect to.

The check runs where the address is final: a resolver wrapping aiohttp's own filters every DNS
answer at connect time (so a name that resolves to a public address once and to 127.0.0.1 the
next time cannot slip through), and literal IP hosts, which aiohttp never resolves, are checked
before the request is made.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges the `is_*` properties of ipaddress miss but that are not the public internet.
_EXTRA_FORBIDDEN = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network"
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking (RFC 2544)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "2002::/16",  # 6to4 can embed any IPv4 address, private ones included
    )
)


class ForbiddenAddressError(OSError):
    """A host resolved only to addresses the SSRF guard refuses.

    An OSError, so aiohttp wraps it like any other resolution failure; the HTTP client looks for
    it and reports ``BlockedAddress``.
    """


def forbidden_reason(address: IpAddress) -> str | None:
    """Say why ``address`` must not be connected to (loopback, private…), or None if it is public.

    IPv4-mapped and NAT64-embedded IPv6 addresses are judged by the IPv4 address they carry.
    """
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is not None:
            return forbidden_reason(mapped)
        if address in ipaddress.ip_network("64:ff9b::/96"):
            return forbidden_reason(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, hit in checks:
        if hit:
            return name
    if any(address.version == net.version and address in net for net in _EXTRA_FORBIDDEN):
        return "reserved"
    if not address.is_global:
        return "not global"
    return None


def parse_ip(host: str) -> IpAddress | None:
    """Return ``host`` as an IP address if it is a literal one (brackets allowed), else None."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def literal_host_reason(host: str) -> str | None:
    """For a literal IP host, say why it is refused; None for public IPs and for host names."""
    address = parse_ip(host)
    return None if address is None else forbidden_reason(address)


class GuardedResolver(AbstractResolver):
    """A resolver that drops every refused address from the answers of another resolver.

    When nothing is left it raises ``ForbiddenAddressError``, so the connection is never made.
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` with the inner resolver and keep only public addresses."""
        answers = await self._inner.resolve(host, port, family)
        kept: list[ResolveResult] = []
        refused: list[str] = []
        for answer in answers:
            address = parse_ip(answer["host"])
            reason = "unparseable" if address is None else forbidden_reason(address)
            if reason is None:
                kept.append(answer)
            else:
                refused.append(f"{answer['host']} ({reason})")
        if not kept:
            raise ForbiddenAddressError(
                f"{host} resolves only to refused addresses: {', '.join(refused) or 'none'}"
            )
        return kept

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()
