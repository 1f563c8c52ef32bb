"""Helpers the test suites share: waiting on conditions, test databases, draining topics."""
