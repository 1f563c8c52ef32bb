"""The logs the law requires (Act 703/2023 10 §): disclosures and usage, hash-chained."""
