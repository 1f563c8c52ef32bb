"""The guardians' portal: a guardian answers Kela's request to the client with an upload."""

from __future__ import annotations

import asyncio
import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from broker.crypto.assertions import ASSERTION_HEADER, mint_guardian_assertion
from chaos.documents import GUARDIAN_PRINCIPAL
from chaos.kela import KelaApi
from chaos.ledger import Expected, Ledger
from devinfra.samples import EXAMPLE_ATTACHMENT

GUARDIAN = "edv-chaos"
PORTAL = "guardian-portal"


class GuardianPortal:
    """The portal, calling as itself with a fresh single-use assertion for the guardian each time."""

    def __init__(self, api: KelaApi, token: str, admin_token: str, key: Ed25519PrivateKey, ledger: Ledger) -> None:
        self.api = api
        self._token = token
        self._admin_token = admin_token
        self._key = key
        self.ledger = ledger
        self._principal_ref: str | None = None

    def _assertion(self) -> dict[str, str]:
        assertion = mint_guardian_assertion(
            self._key, GUARDIAN, PORTAL, "guardian-portal", "silta-guardian", lifetime=dt.timedelta(minutes=5)
        )
        return {ASSERTION_HEADER: assertion}

    async def register_mandate(self) -> None:
        """The guardianship register's mandate for the examples' client, loaded through the admin route."""
        mandate = {
            "guardian_id": GUARDIAN,
            "principal_identity_code": GUARDIAN_PRINCIPAL,
            "scope": "financial",
            "valid_from": "2024-01-01",
            "valid_to": None,
            "source_reference": "DVV-EDV-CHAOS",
        }
        answer = await self.api.call(
            "POST", "/admin/v1/guardian-mandates", self._admin_token, json={"mandates": [mandate]}
        )
        answer.raise_for_status()
        listing = await self.api.call("GET", "/guardian/v1/principals", self._token, headers=self._assertion())
        listing.raise_for_status()
        self._principal_ref = listing.json()["principals"][0]["principal_ref"]

    async def answer(self, request_id: str, case_id: str) -> None:
        """Upload the example PDF as the answer to an open request; the late attachments it makes are expected."""
        path = f"/guardian/v1/principals/{self._principal_ref}/requests/{request_id}/attachments"
        self.ledger.record_sent(Expected(f"upload-{request_id}", "guardian-upload", GUARDIAN, "silta", case_id, 0))
        for _ in range(60):  # a fresh assertion each try: a retried one would be refused as replayed
            headers = self._assertion() | {"Content-Type": "application/pdf"}
            answer = await self.api.call(
                "POST", path, self._token, content=EXAMPLE_ATTACHMENT.read_bytes(), headers=headers
            )
            if answer.status_code == 201:
                self.ledger.record_accepted(f"upload-{request_id}")
                for delivery in answer.json()["deliveries"]:
                    late = Expected(
                        delivery["message_id"], "late-attachment", "silta", delivery["recipient"], case_id, 0
                    )
                    self.ledger.record_sent(late)
                    self.ledger.record_accepted(late.message_id)
                return
            if answer.status_code not in {401, 404}:  # not yet in the view, or a retried assertion spent
                break
            await asyncio.sleep(0.5)
        self.ledger.rejected[f"upload-{request_id}"] = str(answer.status_code)
