"""Local infrastructure for development and tests: Apache Kafka and PostgreSQL.

Nothing here is used by the service in production; `make run` and the pytest
fixtures start real servers with it, bound to 127.0.0.1.
"""
