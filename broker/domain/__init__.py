"""The pure core: identity codes, parties, routing, the catalogue, errors.

Nothing here imports a web framework, a database or a Kafka client.
"""
