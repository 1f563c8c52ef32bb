"""XML handling: hardened parsing, schema validation, paths in documents."""
