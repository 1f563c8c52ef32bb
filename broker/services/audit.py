"""The operator's checks on the logs: every hash chain walked from its start to its head."""

from __future__ import annotations

from broker.audit.chain import ChainProblem
from broker.services.unit_of_work import UnitOfWork
from broker.store.audit_log import verify_log


async def verify_chains(uow: UnitOfWork) -> tuple[dict[str, int], ChainProblem | None]:
    """Entries per chain, and the first altered, inserted or deleted entry if there is one."""
    return await verify_log(uow.session)
