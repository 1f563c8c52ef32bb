"""Every producer of Silta's is built in one place, with acks from all in-sync replicas and idempotence."""

from __future__ import annotations

from pathlib import Path

import pytest

from broker.kafka.connection import KafkaConnection
from broker.kafka.publisher import DURABLE_PRODUCER_OPTIONS, durable_producer
from broker.settings import PROJECT_ROOT

_PRODUCING_CODE = ("broker", "adapters", "entrypoints")


def test_the_durable_options_are_acks_all_and_idempotence() -> None:
    """The one set of producer options waits for every in-sync replica and never writes a retried record twice."""
    assert DURABLE_PRODUCER_OPTIONS == {"acks": "all", "enable_idempotence": True}


def test_no_producer_is_built_outside_durable_producer() -> None:
    """Only `broker/kafka/publisher.py` calls `AIOKafkaProducer(`, and only once (inside `durable_producer`)."""
    builders = {
        path.relative_to(PROJECT_ROOT).as_posix(): path.read_text().count("AIOKafkaProducer(")
        for root in _PRODUCING_CODE
        for path in (PROJECT_ROOT / root).rglob("*.py")
        if "AIOKafkaProducer(" in path.read_text()
    }
    assert builders == {"broker/kafka/publisher.py": 1}


@pytest.mark.parametrize("weakening", [{"acks": 1}, {"enable_idempotence": 0}])
def test_durable_producer_refuses_weaker_options(weakening: dict[str, int]) -> None:
    """A caller cannot pass `acks` or `enable_idempotence`: the producer would otherwise lose or double records."""
    connection = KafkaConnection("127.0.0.1:9092", Path("/nonexistent/ca.pem"))
    with pytest.raises(ValueError, match="not settable"):
        durable_producer(connection, **weakening)
