"""The operator console at `/console`: server-rendered pages (Jinja2 + htmx), signed in by a session cookie."""
