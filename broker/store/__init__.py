"""Persistence: tables, queries and the group committer.

Queries never commit; the group committer and the relay are the units of work.
"""
