"""Thin channel adapters: Kela's REST API, the organisers' Kafka client, the guardians' portal."""
