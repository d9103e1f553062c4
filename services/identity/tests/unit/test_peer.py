"""adapters/grpc/peer.py: the client address login throttling counts, from gRPC's peer string."""

from __future__ import annotations

import pytest

from zquant_identity.adapters.grpc.peer import client_address

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("peer", "address"),
    [
        ("ipv4:10.0.0.5:51234", "10.0.0.5"),
        ("ipv4:127.0.0.2:1", "127.0.0.2"),
        ("ipv6:[::1]:51234", "::/64"),
        ("ipv6:%5B2001:db8::7%5D:443", "2001:db8::/64"),
        ("ipv6:[2001:db8:0:0:ffff::1]:443", "2001:db8::/64"),
        ("ipv6:[::ffff:10.1.2.3]:443", "10.1.2.3"),
        ("unix:/run/zquant.sock", "unix:/run/zquant.sock"),
        ("", ""),
    ],
)
def test_the_port_is_dropped_and_an_ipv6_client_counts_as_its_64(peer, address):
    assert client_address(peer) == address


def test_an_overlong_peer_is_cut_to_the_column_size():
    assert len(client_address("unix:" + "x" * 500)) == 100
