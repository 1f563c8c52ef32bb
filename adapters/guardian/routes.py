"""STUB: the guardians' portal router. It has no routes until the guardian issue is built."""

from fastapi import APIRouter

router = APIRouter(prefix="/guardian/v1", tags=["guardian"])
