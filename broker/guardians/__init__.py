"""Guardians (edunvalvojat): mandates, their assertions, and the limited view (442/1999 29 §, 89 §)."""
