"""Data shipped with the package: the 2025 municipality → organiser table."""
