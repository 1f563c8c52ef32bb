"""`silta parked list|show|replay|discard`: the operator's dead letters from the command line.

The same use cases as `/admin/v1/parked`, wired here for one command: the
pipeline, Silta's record keys and the database of the settings. A replay
writes the message and its receipt to the outbox; the running service's relay
publishes them. A replay of many shows a progress bar (on standard error).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from adapters.masking import mask_identity_codes
from broker.crypto.ids import MessageIds
from broker.crypto.keyring import LiveKeyRing
from broker.domain.clients import Role
from broker.domain.dead_letters import DeadLetterFilter, ParkedState, ReplayCounts, ReplayResult
from broker.domain.errors import Rejection
from broker.services.dead_letters import DeadLetters, ParkedView, RestRejectionView
from broker.services.inbound import OrganiserRecordIntake
from broker.services.party_keys import RecordSeals
from broker.services.receipts import ReceiptWriter
from broker.services.replay_batch import ReplayBatch
from broker.services.unit_of_work import UnitOfWorkFactory
from broker.settings import Settings
from entrypoints.audit_commands import units_for


@dataclass(frozen=True)
class Desk:
    """The dead-letter use cases on the configured database, for one command."""

    units: UnitOfWorkFactory
    dead_letters: DeadLetters
    replays: ReplayBatch


@asynccontextmanager
async def desk_for(settings: Settings) -> AsyncIterator[Desk]:
    """The use cases wired as the service wires them, on an engine of the command's own."""
    from entrypoints.bootstrap import build_pipeline  # noqa: PLC0415  only the parked commands compile schemas

    pipeline = build_pipeline(settings)
    receipts = ReceiptWriter(MessageIds(pipeline.pseudonyms.id_secret))
    intake = OrganiserRecordIntake(pipeline, receipts, RecordSeals(LiveKeyRing(settings.key_dir)))
    dead_letters = DeadLetters(intake)
    async with units_for(settings) as units:
        yield Desk(units, dead_letters, ReplayBatch(units, dead_letters))


def filter_of(args: argparse.Namespace) -> DeadLetterFilter:
    """The filter the options name."""
    return DeadLetterFilter(
        args.reason, args.topic, args.sender, args.since, args.until, ParkedState(args.state), args.after, args.limit
    )


def parked_line(view: ParkedView) -> str:
    """One parked record on one line: id, state, reason, place on the bus, attempts, first error (masked)."""
    place = f"{view.topic}/{view.partition}/{view.offset}"
    detail = mask_identity_codes(view.error_detail, Role.OPERATOR)
    at = f"{view.parked_at:%Y-%m-%dT%H:%M:%SZ}"
    return f"{view.id}\t{view.state}\t{view.error_code}\t{place}\t{view.attempts}\t{at}\t{detail}"


def rejection_line(view: RestRejectionView) -> str:
    """One kept REST rejection on one line."""
    who = view.client_id or "-"
    sha = view.body_sha256 or "-"
    at = f"{view.at:%Y-%m-%dT%H:%M:%SZ}"
    route = f"{view.method} {view.route}"
    return f"{view.id}\t{at}\t{view.error_code}\t{view.status}\t{route}\t{who}\t{view.body_size}\t{sha}"


async def listing(settings: Settings, wanted: DeadLetterFilter, rejections: bool) -> list[str]:
    """The lines of `silta parked list`."""
    async with desk_for(settings) as desk, desk.units() as uow:
        if rejections:
            return [rejection_line(v) for v in await desk.dead_letters.rejections(uow, wanted)]
        return [parked_line(v) for v in await desk.dead_letters.listing(uow, wanted)]


async def showing(settings: Settings, record_id: int) -> list[str]:
    """The lines of `silta parked show ID`: every field of the record (never its value)."""
    async with desk_for(settings) as desk, desk.units() as uow:
        view = await desk.dead_letters.explain(uow, record_id)
    fields = {**vars(view), "error_detail": mask_identity_codes(view.error_detail, Role.OPERATOR)}
    return [f"{name}: {_text(value)}" for name, value in fields.items()]


def _text(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return "-" if value is None else str(value)


async def replay_one(settings: Settings, record_id: int) -> ReplayResult:
    """Replay one record."""
    async with desk_for(settings) as desk:
        return await desk.replays.replay_one(record_id)


async def replay_all(settings: Settings, wanted: DeadLetterFilter) -> ReplayCounts:
    """Replay every unresolved record the filter matches, with a progress bar on standard error."""
    from rich.console import Console  # noqa: PLC0415  loaded by the one command that draws
    from rich.progress import Progress  # noqa: PLC0415

    async with desk_for(settings) as desk:
        ids = await desk.replays.matching(wanted)
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("replaying", total=len(ids))
            return await desk.replays.replay_each(ids, lambda _: progress.advance(task))


async def discarding(settings: Settings, record_id: int, operator: str, reason: str) -> ParkedView:
    """Discard one record with a reason (logged to the usage log as `operator`)."""
    async with desk_for(settings) as desk, desk.units() as uow:
        view = await desk.dead_letters.discard(uow, record_id, operator, "silta", reason)
        await uow.commit()
    return view


def cmd_parked_list(args: argparse.Namespace) -> int:
    """List parked records (or, with --rejections, kept REST rejections) by reason, topic, sender and time."""
    lines = asyncio.run(listing(Settings(), filter_of(args), args.rejections))
    print("\n".join(lines) if lines else "nothing matches")
    return 0


def cmd_parked_show(args: argparse.Namespace) -> int:
    """Show one parked record: where it came from, what it failed with, what became of it."""
    return _answer(lambda: asyncio.run(showing(Settings(), args.id)))


def cmd_parked_replay(args: argparse.Namespace) -> int:
    """Replay one parked record by id, or with --all every unresolved one the filters match."""
    if args.all:
        counts = asyncio.run(replay_all(Settings(), filter_of(args)))
        print(
            f"delivered {counts.delivered}, duplicates {counts.duplicate},"
            f" parked again {counts.parked_again}, skipped {counts.skipped}"
        )
        return 0
    if args.id is None:
        print("silta parked replay: give a record id, or --all", file=sys.stderr)
        return 2
    return _answer(lambda: [_replay_text(asyncio.run(replay_one(Settings(), args.id)))])


def cmd_parked_discard(args: argparse.Namespace) -> int:
    """Discard one parked record; the reason is required and goes to the usage log with who discarded it."""
    return _answer(lambda: [parked_line(asyncio.run(discarding(Settings(), args.id, args.operator, args.reason)))])


def _replay_text(result: ReplayResult) -> str:
    extra = result.message_id or result.error_code or ""
    return f"{result.record_id}\t{result.outcome}\t{extra}".rstrip()


def _answer(run: Callable[[], list[str]]) -> int:
    """Print the lines `run()` returns; a rejection (unknown id, no reason) is one line on stderr, exit 1."""
    try:
        lines = run()
    except Rejection as rejection:
        print(f"{rejection.code}: {rejection.detail}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", default=None, help="the error code, e.g. key-unknown")
    parser.add_argument("--topic", default=None, help="e.g. silta.from.hva-08.v1")
    parser.add_argument("--sender", default=None, help="the organiser, e.g. hva-08 (for rejections: the caller)")
    parser.add_argument("--since", type=dt.datetime.fromisoformat, default=None, help="ISO time, inclusive")
    parser.add_argument("--until", type=dt.datetime.fromisoformat, default=None, help="ISO time, exclusive")
    parser.add_argument("--state", choices=[str(s) for s in ParkedState], default=str(ParkedState.UNRESOLVED))
    parser.add_argument("--after", type=int, default=0, help="list after this id (paging)")
    parser.add_argument("--limit", type=int, default=50)


def add_parked_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`silta parked list|show|replay|discard`."""
    parked = commands.add_parser("parked", help="dead letters: parked records and REST rejections").add_subparsers(
        dest="parked_command", required=True
    )
    listing_parser = parked.add_parser("list", help=cmd_parked_list.__doc__)
    _add_filters(listing_parser)
    listing_parser.add_argument("--rejections", action="store_true", help="list kept REST rejections instead")
    listing_parser.set_defaults(handler=cmd_parked_list)
    show = parked.add_parser("show", help=cmd_parked_show.__doc__)
    show.add_argument("id", type=int)
    show.set_defaults(handler=cmd_parked_show)
    replay = parked.add_parser("replay", help=cmd_parked_replay.__doc__)
    replay.add_argument("id", type=int, nargs="?", default=None)
    replay.add_argument("--all", action="store_true", help="every unresolved record the filters match")
    _add_filters(replay)
    replay.set_defaults(handler=cmd_parked_replay)
    discard = parked.add_parser("discard", help=cmd_parked_discard.__doc__)
    discard.add_argument("id", type=int)
    discard.add_argument("--reason", required=True, help="why: written to the usage log")
    discard.add_argument("--operator", default="operator", help="who discards, for the usage log")
    discard.set_defaults(handler=cmd_parked_discard)
