"""Guardians' portal adapter (`/guardian/v1/...`).

STUB: no routes yet. The guardian view (mandates, the guardian's limited view
through the statutory filter, uploads) is issue 5 and builds on the message
catalogue and the filter's guardian role.
"""
