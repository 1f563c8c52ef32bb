"""`silta keys rotate|retire|list`: one command for every kind of key Silta rotates.

Each kind of key is a `KeyPurpose` in `KEY_PURPOSES`: `silta keys rotate
--<flag>` rotates that kind (exactly one flag), `silta keys retire KID` goes
to the purpose whose `owns(KID)` is true, and `silta keys list` prints every
purpose's keys. The pseudonym key is here; Silta's record signing
(`--signing`) and encryption (`--encryption`) keys are in
`entrypoints.record_key_purposes`, added by the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from broker.audit.pseudonym import RECHECK_S
from broker.audit.pseudonym_ring import RingError
from broker.domain.clock import SystemClock
from broker.services.pseudonym_keys import PseudonymKeys, Retirement, version_of_kid
from broker.settings import Settings
from entrypoints.audit_commands import units_for


@dataclass(frozen=True)
class Outcome:
    """What a key command prints (standard output, standard error) and its exit status."""

    status: int
    lines: list[str]
    notes: list[str]


@dataclass(frozen=True)
class KeyPurpose:
    """One kind of key: how to rotate it, whose key ids it owns, how to retire one, how to list them."""

    flag: str
    """`silta keys rotate --<flag>`."""
    help: str
    rotate: Callable[[Settings], Outcome]
    """Make a new key current; the first line printed is its key id."""
    owns: Callable[[str], bool]
    retire: Callable[[Settings, str, bool], Outcome]
    """Retire the key with this id (`force`: even if something still needs it)."""
    list_keys: Callable[[Settings], list[str]]


def _rotate_pseudonym(settings: Settings) -> Outcome:
    version = PseudonymKeys(settings.pseudonym_key_file, SystemClock()).rotate()
    return Outcome(
        0,
        [f"pseudonym-{version}"],
        [
            f"new log entries, messages and mandates are written under pseudonym-{version}"
            f" (a running service switches within {RECHECK_S:g} s); look-ups try every live version",
            "import the guardian mandates again so that they also find messages written under it",
        ],
    )


def _retire_pseudonym(settings: Settings, kid: str, force: bool) -> Outcome:
    version = version_of_kid(kid)
    if version is None:
        return Outcome(2, [], [f"{kid} is not a pseudonym key id"])
    retirement = asyncio.run(_retire(settings, version, force))
    return _retirement_outcome(kid, retirement)


async def _retire(settings: Settings, version: int, force: bool) -> Retirement:
    keys = PseudonymKeys(settings.pseudonym_key_file, SystemClock())
    async with units_for(settings) as units, units() as uow:
        retirement = await keys.retire(uow, version, force=force)
        await uow.commit()
    return retirement


def _retirement_outcome(kid: str, retirement: Retirement) -> Outcome:
    use = retirement.use
    needed = (
        f"{use.log_entries} log entries, {use.messages} messages and {use.mandates} guardian mandates are under {kid}"
    )
    if not retirement.retired:
        return Outcome(
            1,
            [],
            [
                f"{kid} is still needed: {needed}",
                "retiring it makes them unreachable by the data subject's query and the guardians' view;"
                " keep it (a live version costs one HMAC per look-up), or retire it anyway with --force",
            ],
        )
    notes = [] if use.unused else [f"{needed}: they can no longer be found by identity code"]
    return Outcome(0, [f"retired {kid}"], notes)


def _list_pseudonym(settings: Settings) -> list[str]:
    keys = PseudonymKeys(settings.pseudonym_key_file, SystemClock())
    return [f"{key.kid}\t{key.state}\t{key.since}".rstrip() for key in keys.states()]


PSEUDONYM = KeyPurpose(
    flag="pseudonym",
    help="the HMAC key of the pseudonyms in the logs (old versions stay live for look-ups)",
    rotate=_rotate_pseudonym,
    owns=lambda kid: version_of_kid(kid) is not None,
    retire=_retire_pseudonym,
    list_keys=_list_pseudonym,
)

KEY_PURPOSES: list[KeyPurpose] = [PSEUDONYM]
"""The pseudonym key; the CLI adds the record keys (`entrypoints.record_key_purposes`)."""


def _print(outcome: Outcome) -> int:
    for line in outcome.lines:
        print(line)
    for note in outcome.notes:
        print(note, file=sys.stderr)
    return outcome.status


def _purpose(purposes: Sequence[KeyPurpose], flag: str) -> KeyPurpose:
    return next(p for p in purposes if p.flag == flag)


def add_key_commands(
    keys: argparse._SubParsersAction[argparse.ArgumentParser], purposes: Sequence[KeyPurpose] = KEY_PURPOSES
) -> None:
    """Add `rotate`, `retire` and `list` under `silta keys`, for every purpose in `purposes`."""
    rotate = keys.add_parser("rotate", help="make a new key of one kind current (the old one stays until retired)")
    kinds = rotate.add_mutually_exclusive_group(required=True)
    for purpose in purposes:
        flag = f"--{purpose.flag}"
        kinds.add_argument(flag, dest="purpose", action="store_const", const=purpose.flag, help=purpose.help)
    rotate.set_defaults(handler=lambda args: cmd_keys_rotate(args, purposes))
    retire = keys.add_parser("retire", help="retire a key by its id, if nothing needs it any more")
    retire.add_argument("kid", help="the key id, e.g. pseudonym-1 (see `silta keys list`)")
    retire.add_argument("--force", action="store_true", help="retire it even though something still needs it")
    retire.set_defaults(handler=lambda args: cmd_keys_retire(args, purposes))
    keys.add_parser("list", help="every key of every kind, with its state").set_defaults(
        handler=lambda _args: cmd_keys_list(purposes)
    )


def cmd_keys_rotate(args: argparse.Namespace, purposes: Sequence[KeyPurpose] = KEY_PURPOSES) -> int:
    """Rotate the kind of key `args.purpose` names; print the new key's id."""
    try:
        return _print(_purpose(purposes, args.purpose).rotate(Settings()))
    except RingError as error:
        return _print(Outcome(1, [], [str(error)]))


def cmd_keys_retire(args: argparse.Namespace, purposes: Sequence[KeyPurpose] = KEY_PURPOSES) -> int:
    """Retire the key `args.kid` through the purpose that owns it; exit 2 if none does, 1 if it is still needed."""
    owner = next((p for p in purposes if p.owns(args.kid)), None)
    if owner is None:
        return _print(Outcome(2, [], [f"no key has the id {args.kid}; see `silta keys list`"]))
    try:
        return _print(owner.retire(Settings(), args.kid, args.force))
    except RingError as error:
        return _print(Outcome(1, [], [str(error)]))


def cmd_keys_list(purposes: Sequence[KeyPurpose] = KEY_PURPOSES) -> int:
    """Print each purpose's keys: key id, state, since when."""
    settings = Settings()
    for purpose in purposes:
        for line in purpose.list_keys(settings):
            print(f"{purpose.flag}\t{line}")
    return 0
