"""Network rules' vocabulary: the world's CIDRs, IP protocols and port ranges."""

from __future__ import annotations

from typing import Any

from .unknowns import UNKNOWN, as_list, as_number, is_unknown

OPEN_CIDRS = ("0.0.0.0/0", "::/0")
"""CIDRs that mean "the whole internet"."""

ADMIN_PORTS = (22, 3389)
"""Remote administration: SSH and RDP."""


def protocol_name(protocol: Any) -> str | Any:
    """``tcp``, ``udp``, ``icmp``, ``all`` (from names or IANA numbers as AWS accepts them); UNKNOWN if unknown."""
    if protocol is None or is_unknown(protocol):
        return UNKNOWN
    text = str(protocol).lower().removesuffix(".0")
    return {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}.get(text, text)


def opens_port(protocol: Any, from_port: Any, to_port: Any, port: int, wanted: str = "tcp") -> bool | Any:
    """Whether (protocol, from_port..to_port) admits ``wanted`` traffic on ``port``; UNKNOWN if undecidable."""
    name = protocol_name(protocol)
    if name is UNKNOWN:
        return UNKNOWN
    if name == "all":
        return True
    if name != wanted:
        return False
    low, high = as_number(from_port), as_number(to_port)
    if low is None or high is None:
        return UNKNOWN if is_unknown(from_port) or is_unknown(to_port) else False
    return low <= port <= high


def open_cidrs(*values: Any) -> list[str] | Any:
    """The world-open CIDRs among ``values`` (each one CIDR or a list); UNKNOWN if one is unknown."""
    cidrs = [c for v in values for c in as_list(v)]
    if any(is_unknown(c) for c in cidrs):
        return UNKNOWN
    return [c for c in cidrs if c in OPEN_CIDRS]
