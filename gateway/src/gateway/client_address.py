"""Who the client is: the TCP peer, or, behind a trusted reverse proxy, the address it forwarded.

Pure functions. A proxy appends the address it received the request from to the right of
``X-Forwarded-For`` (or ``Forwarded``); everything to the left came from the client and may be
forged. So the client is the right-most entry that is not one of our own proxies. Anything we
cannot read (garbage, ``unknown``, an obfuscated ``_name``) falls back to the peer: a client
cannot escape its limits by sending nonsense, at worst it shares the proxy's budget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

# Longest X-Forwarded-For / Forwarded value looked at; a longer one is malformed.
MAX_HEADER = 4096
# "[v6]:port", "v4:port" or a bare address.
_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?")
_V4_PORT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}")
# RFC 7239 for= values, quoted or not, inside one forwarded-element.
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)
# An IPv6 client is keyed by its /64: one subscriber usually holds a whole /64.
IPV6_PREFIX = 64


def parse_networks(value: str | Iterable[str]) -> tuple[Network, ...]:
    """``"10.0.0.1, 172.16.0.0/12"`` → networks; raises ValueError naming a bad entry."""
    parts = value.split(",") if isinstance(value, str) else value
    networks = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        try:
            networks.append(ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def parse_address(value: str) -> IPAddress | None:
    """An address from a header entry or peer name (ports and brackets allowed), else None."""
    value = value.strip().strip('"')
    if (match := _BRACKETED.fullmatch(value)) or (match := _V4_PORT.fullmatch(value)):
        value = match.group(1)
    try:
        address = ip_address(value)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _forwarded_chain(headers: Mapping[str, str]) -> list[str] | None:
    """The forwarded entries, client first; None when there are none or the header is malformed.

    X-Forwarded-For wins when present (what nginx, Caddy, Traefik and HAProxy write by default);
    RFC 7239 Forwarded is read only without it, so a proxy that writes Forwarded must drop any
    X-Forwarded-For the client sent (docs/DEPLOYMENT.md).
    """
    if (xff := headers.get("X-Forwarded-For")) is not None:
        if len(xff) > MAX_HEADER:
            return None
        return [entry.strip() for entry in xff.split(",")]
    if (forwarded := headers.get("Forwarded")) is not None:
        if len(forwarded) > MAX_HEADER:
            return None
        chain = []
        for element in forwarded.split(","):
            match = _FOR.search(element)
            chain.append(match.group(1) if match else "")
        return chain
    return None


def _trusted(address: IPAddress, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def client_address(
    peer: str | None, headers: Mapping[str, str], proxies: Sequence[Network]
) -> IPAddress | None:
    """The client's address for limits and logs; None only when the peer itself is unknown."""
    peer_address = parse_address(peer) if peer else None
    if peer_address is None or not _trusted(peer_address, proxies):
        return peer_address
    chain = _forwarded_chain(headers)
    if not chain:
        return peer_address
    closest = peer_address
    for entry in reversed(chain):
        hop = parse_address(entry)
        if hop is None:
            return peer_address  # unreadable where the client should be: the peer, never a guess
        if not _trusted(hop, proxies):
            return hop
        closest = hop  # only our own proxies so far: the left-most is the closest we get
    return closest


def limit_key(address: IPAddress | None) -> str:
    """What a per-address limit counts: the IPv4 address, or the IPv6 /64 it belongs to."""
    if address is None:
        return "unknown"
    if isinstance(address, IPv6Address):
        return str(IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)
