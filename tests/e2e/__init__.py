"""Silta tests."""
