"""The caller's network address as login throttling counts it, from gRPC's `context.peer()`."""

from __future__ import annotations

import ipaddress
from urllib.parse import unquote

MAX_ADDRESS_LENGTH = 100


def client_address(peer: str) -> str:
    """`ipv4:10.0.0.5:51234` → `10.0.0.5`; `ipv6:[2001:db8::1]:51234` → `2001:db8::/64`.

    The port changes with every connection, so it must not split one client's count; an IPv6 client usually owns
    a whole /64, so that is one address. Anything else (a unix socket) is kept as it is.
    """
    kind, _, rest = unquote(peer).partition(":")
    host = rest.rpartition(":")[0].strip("[]") if kind in ("ipv4", "ipv6") else ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return peer[:MAX_ADDRESS_LENGTH]
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
