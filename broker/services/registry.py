"""The service layer as the channels see it: every use case, built once by the composition root.

REST routes, the Kafka consumer and the CLI reach the core only through this
object (and the units of work it opens); none of them holds a query.
"""

from __future__ import annotations

from dataclasses import dataclass

from broker.crypto.keyring import LiveKeyRing
from broker.crypto.tokens import Caller, TokenVerifier
from broker.pipeline import MessagePipeline
from broker.services.attachment_desk import AttachmentDesk
from broker.services.data_subject import DataSubjectQuery
from broker.services.dead_letters import DeadLetters
from broker.services.guardians import GuardianDesk
from broker.services.intake import MessageIntake
from broker.services.kela_inbox import KelaInbox
from broker.services.mandate_registry import MandateRegistry
from broker.services.party_keys import PartyKeyRegistry
from broker.services.replay_batch import ReplayBatch
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings


@dataclass(frozen=True)
class ServiceLayer:
    """Every use case a channel may call, and the units of work to run them in."""

    settings: Settings
    units: UnitOfWorkFactory
    verifier: TokenVerifier
    pipeline: MessagePipeline
    intake: MessageIntake
    inbox: KelaInbox
    attachments: AttachmentDesk
    guardians: GuardianDesk
    data_subjects: DataSubjectQuery
    mandates: MandateRegistry
    party_keys: PartyKeyRegistry
    record_keys: LiveKeyRing
    """Silta's own record keys: their public halves are the JWKS at `/.well-known/jwks.json`."""
    dead_letters: DeadLetters
    """Parked records and kept REST rejections: list, explain, discard (`replays` replays them)."""
    replays: ReplayBatch

    async def caller(self, authorization: str | None) -> Caller:
        """The authenticated caller of a bearer token, or a `Rejection` (`token-missing`, `token-invalid`, …)."""
        return await self.verifier.verify_live(authorization)
