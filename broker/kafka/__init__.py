"""Kafka adapters of the core: the publisher behind the outbox relay, topic set-up."""
