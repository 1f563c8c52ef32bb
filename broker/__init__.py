"""Silta's core: the pipeline every message goes through, and what it needs."""
