"""Prometheus metrics, served at `/metrics`."""

from prometheus_client import Counter, Histogram

MESSAGES_ACCEPTED = Counter(
    "silta_messages_accepted_total",
    "Messages accepted and stored, by type and by the channel they came in on (`rest` or `kafka`)",
    ["message_type", "channel"],
)
MESSAGES_REJECTED = Counter("silta_messages_rejected_total", "Messages rejected, by error code", ["code"])
RECORDS_PUBLISHED = Counter("silta_records_published_total", "Outbox records published to Kafka")
ACCEPT_SECONDS = Histogram(
    "silta_accept_seconds",
    "Time from request to stored message",
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
INBOUND_FAILURES = Counter(
    "silta_inbound_failures_total",
    "Organisers' records that failed: parked by error code, or `transient` for a fault retried with backoff",
    ["code"],
)
KAFKA_REFUSALS = Counter(
    "silta_kafka_refusals_total",
    "Kafka refused one of Silta's clients: failed authentication, a missing ACL or an untrusted certificate",
    ["client", "reason"],
)
DELIVERY_SECONDS = Histogram(
    "silta_delivery_seconds",
    "Time from a message's acceptance to its record's publication (on Kafka or in Kela's inbox)",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)
