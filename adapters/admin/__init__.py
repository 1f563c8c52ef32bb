"""Silta's operators' REST API: dead letters (parked records and kept REST rejections)."""
