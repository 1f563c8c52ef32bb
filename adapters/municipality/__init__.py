"""Organisers' side: the topic contract and an async client for case systems."""
