"""Retention: empty message bodies, attachments and parked values, delete REST rejections; the logs stay 12 years."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from broker.services.unit_of_work import UnitOfWork
from broker.store.retention import purge_attachments, purge_bodies, purge_parked, purge_rest_rejections


@dataclass(frozen=True)
class RetentionResult:
    """What one run purged, and the cutoff it used."""

    messages: int
    attachments: int
    rejections: int
    cutoff: dt.datetime


async def run_retention(uow: UnitOfWork, days: int) -> RetentionResult:
    """Empty bodies whose last step is more than `days` old (by the unit's clock), then unneeded attachments.

    Parked values and kept REST rejections of the same age go too (one period for all operational data).
    """
    cutoff = uow.now - dt.timedelta(days=days)
    messages = await purge_bodies(uow.session, cutoff, uow.now)
    attachments = await purge_attachments(uow.session, cutoff, uow.now)
    await purge_parked(uow.session, cutoff)
    rejections = await purge_rest_rejections(uow.session, cutoff)
    return RetentionResult(len(messages), len(attachments), rejections, cutoff)
