"""Guardians' portal adapter (`/guardian/v1/...`) and the mandate registry's admin route (`/admin/v1/...`)."""
