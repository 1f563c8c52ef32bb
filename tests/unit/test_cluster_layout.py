"""A cluster node's advertised listeners: its own ports, or a proxy's where overridden."""

from __future__ import annotations

from devinfra.cluster_config import NodeLayout
from devinfra.kafka_config import KafkaPorts

PORTS = KafkaPorts(sasl=9001, mtls=9002, internal=9003, controller=9004)


def test_a_node_advertises_its_own_ports_by_default() -> None:
    """No override: every client listener is advertised where it is bound."""
    layout = NodeLayout(1, PORTS, PORTS.sasl)
    assert layout.advertised_listeners == layout.client_listeners


def test_an_mtls_override_moves_only_the_mtls_listener() -> None:
    """The MTLS listener is advertised at the proxy's port; SASL_SSL and INTERNAL stay on the node's own."""
    layout = NodeLayout(1, PORTS, PORTS.sasl, advertised_mtls_port=7002)
    assert layout.advertised_listeners == ("SASL_SSL://127.0.0.1:9001,MTLS://127.0.0.1:7002,INTERNAL://127.0.0.1:9003")
    assert "MTLS://127.0.0.1:9002" in layout.client_listeners
