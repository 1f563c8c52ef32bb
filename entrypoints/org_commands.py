"""`silta org keys new|register|list|revoke`, and the record-key options of `silta org listen|send`.

`new` is the supplier's side: it makes a party's key pair and prints the public
JWKS to hand to Silta. `register`, `list` and `revoke` are Silta's side: the
registry its verification and sealing use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx

from adapters.municipality.keys import OrganiserKeys, SiltaKeySource
from broker.domain.parties import role_of
from broker.kafka.acls import bus_principals
from broker.kafka.credentials import SILTA_PRINCIPAL
from broker.services.party_keys import KeyRegistrationError, PartyKeyRegistry
from broker.settings import Settings
from entrypoints.audit_commands import units_for


def add_record_key_options(parser: argparse.ArgumentParser) -> None:
    """Where an organiser's command finds its own private keys and Silta's public ones."""
    keys = parser.add_argument_group("record keys (default: the local run's)")
    keys.add_argument("--keys-dir", type=Path, default=None, help="the party's keys.json under DIR/<org>/")
    keys.add_argument("--silta-jwks", default=None, help="Silta's JWKS: a URL or a file (default: the local service)")


def record_jwks_url(settings: Settings) -> str:
    """Where Silta's JWKS is: `SILTA_RECORD_JWKS_URL`, or this service's own `/.well-known/jwks.json`."""
    if settings.record_jwks_url:
        return settings.record_jwks_url
    scheme = "https" if getattr(settings, "api_tls_cert_file", None) else "http"
    return f"{scheme}://{settings.api_host}:{settings.api_port}/.well-known/jwks.json"


def record_keys(args: argparse.Namespace, party: str, settings: Settings) -> tuple[OrganiserKeys, SiltaKeySource]:
    """The party's own keys and a source of Silta's, from the options or the local run's defaults."""
    keys = OrganiserKeys.load(args.keys_dir or settings.party_keys_dir, party)
    return keys, SiltaKeySource(args.silta_jwks or record_jwks_url(settings))


def cmd_org_keys_new(args: argparse.Namespace) -> int:
    """Make a signing and an encryption key for a party; print the public JWKS to register with Silta."""
    if role_of(args.org) is None:
        print(f"error: {args.org!r} is not a party id", file=sys.stderr)
        return 2
    public = OrganiserKeys.new(args.keys_dir or Settings().party_keys_dir, args.org)
    print(json.dumps(public, indent=2))
    return 0


def _jwks_from(source: str) -> dict[str, Any]:
    if source.startswith(("http://", "https://")):
        answer = httpx.get(source, timeout=10)
        answer.raise_for_status()
        jwks: dict[str, Any] = answer.json()
        return jwks
    loaded: dict[str, Any] = json.loads(Path(source).read_text())
    return loaded


async def _register(settings: Settings, party: str, jwks: dict[str, Any], source: str) -> list[str]:
    async with units_for(settings) as units, units() as uow:
        added = await PartyKeyRegistry().register(uow, party, jwks, source)
        await uow.commit()
        return added


def cmd_org_keys_register(args: argparse.Namespace) -> int:
    """Register a party's public keys from a JWKS file or its JWKS URL (keys already registered are kept)."""
    try:
        added = asyncio.run(_register(Settings(), args.org, _jwks_from(args.source), args.source))
    except (KeyRegistrationError, OSError, ValueError, httpx.HTTPError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"registered {len(added)} keys for {args.org}: {', '.join(added) or 'none new'}")
    return 0


async def _listing(settings: Settings, party: str | None) -> list[str]:
    async with units_for(settings) as units, units() as uow:
        keys = await PartyKeyRegistry().listing(uow, party)
    return [
        f"{k.party}\t{k.key_id}\t{k.use}\t{'revoked ' + f'{k.revoked_at:%Y-%m-%d %H:%M}' if k.revoked_at else 'active'}"
        for k in keys
    ]


def cmd_org_keys_list(args: argparse.Namespace) -> int:
    """List registered keys: party, key id, use (sig/enc), active or revoked."""
    print("\n".join(asyncio.run(_listing(Settings(), args.org))) or "no keys registered")
    return 0


async def _revoke(settings: Settings, key_id: str) -> bool:
    async with units_for(settings) as units, units() as uow:
        revoked = await PartyKeyRegistry().revoke(uow, key_id)
        await uow.commit()
        return revoked


def cmd_org_keys_revoke(args: argparse.Namespace) -> int:
    """Revoke a key: records signed with it are refused (`key-revoked`), nothing is sealed to it."""
    if not asyncio.run(_revoke(Settings(), args.key_id)):
        print(f"error: no active key {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked {args.key_id}")
    return 0


def add_org_key_commands(org: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`silta org keys new|register|list|revoke`."""
    keys = org.add_parser("keys", help="parties' record keys").add_subparsers(dest="keys_command", required=True)
    new = keys.add_parser("new", help=cmd_org_keys_new.__doc__)
    new.add_argument("--org", required=True, help="the party id, e.g. hva-08")
    new.add_argument("--keys-dir", type=Path, default=None, help="default: SILTA_PARTY_KEYS_DIR")
    new.set_defaults(handler=cmd_org_keys_new)
    register = keys.add_parser("register", help=cmd_org_keys_register.__doc__)
    register.add_argument("--org", required=True, help="the party id")
    register.add_argument("source", help="a JWKS file or https URL")
    register.set_defaults(handler=cmd_org_keys_register)
    listing = keys.add_parser("list", help=cmd_org_keys_list.__doc__)
    listing.add_argument("--org", default=None, help="only this party")
    listing.set_defaults(handler=cmd_org_keys_list)
    revoke = keys.add_parser("revoke", help=cmd_org_keys_revoke.__doc__)
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=cmd_org_keys_revoke)


async def register_local_party_keys(settings: Settings) -> int:
    """Local runs and tests: every party of the bus gets its key pair (made once) and has it registered.

    Stands in for the organisers' suppliers running `silta org keys new` and Silta's operator registering the
    result. Returns how many keys were newly registered.
    """
    folder = settings.party_keys_dir
    parties = [party for party in bus_principals() if party != SILTA_PRINCIPAL]
    jwks = {party: _local_public_keys(folder, party) for party in parties}
    added = 0
    async with units_for(settings) as units, units() as uow:
        registry = PartyKeyRegistry()
        for party in parties:
            added += len(await registry.register(uow, party, jwks[party], f"local:{folder / party}"))
        await uow.commit()
    return added


def _local_public_keys(folder: Path, party: str) -> dict[str, Any]:
    if not (folder / party / "keys.json").exists():
        return OrganiserKeys.new(folder, party)
    return OrganiserKeys.public(folder, party)
