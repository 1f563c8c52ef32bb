"""REST adapter for Kela's back-office systems (`/kela/v1/...`)."""
