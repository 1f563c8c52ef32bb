"""The `silta` command line: serve the API, mint local tokens, listen as an organiser, audit, retention, schemas."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from broker.settings import Settings
from entrypoints.audit_cli import add_anchor_commands
from entrypoints.kafka_commands import add_bus_options, add_kafka_commands
from entrypoints.key_commands import KEY_PURPOSES, add_key_commands
from entrypoints.org_commands import add_org_key_commands, add_record_key_options
from entrypoints.record_key_purposes import RECORD_KEY_PURPOSES

if TYPE_CHECKING:
    from adapters.municipality.keys import OrganiserKeys, SiltaKeySource
    from broker.kafka.connection import KafkaConnection


def serve(settings: Settings) -> None:
    """Migrate the database, then serve the API with uvicorn until stopped (HTTPS if a certificate is set)."""
    import uvicorn

    from broker.logging import configure_logging
    from broker.store.migrate import upgrade_database
    from entrypoints.api import create_app

    configure_logging(settings.log_level, settings.log_json)  # the migration's lines are JSON too
    asyncio.run(upgrade_database(settings.database_url))
    # Each worker process (with more than one) builds its own app from the same environment.
    app = "entrypoints.api:create_app" if settings.api_workers > 1 else create_app(settings)
    uvicorn.run(
        app,
        factory=settings.api_workers > 1,
        workers=settings.api_workers if settings.api_workers > 1 else None,
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        ssl_certfile=settings.api_tls_cert_file,
        ssl_keyfile=settings.api_tls_key_file,
    )


def cmd_serve(_args: argparse.Namespace) -> int:
    """Migrate the database and serve the API (Kafka is expected to be running)."""
    serve(Settings())
    return 0


def ensure_local_keys(settings: Settings) -> list[str]:
    """Create whichever local keys are missing; a line per key saying where it is."""
    from broker.audit.pseudonym import ensure_pseudonym_key
    from broker.crypto.keyring import ensure_key_ring
    from broker.crypto.tokens import ensure_dev_keys

    ensure_dev_keys(settings.dev_signing_key_file, settings.auth_jwks_file)
    ensure_pseudonym_key(settings.pseudonym_key_file)
    ensure_key_ring(settings.key_dir)
    return [
        f"token signing key: {settings.dev_signing_key_file} (public keys: {settings.auth_jwks_file})",
        f"pseudonym key: {settings.pseudonym_key_file}",
        f"record keys: {settings.key_dir} (public keys for organisers: GET /.well-known/jwks.json)",
    ]


async def prepare_local_store(settings: Settings) -> None:
    """Local runs: the database migrated, every party's keys registered (as suppliers and an operator would)."""
    from broker.store.migrate import upgrade_database
    from entrypoints.org_commands import register_local_party_keys

    await upgrade_database(settings.database_url)
    await register_local_party_keys(settings)


def cmd_db_upgrade(_args: argparse.Namespace) -> int:
    """Apply the Alembic migrations to the configured database."""
    from broker.store.migrate import upgrade_database

    asyncio.run(upgrade_database(Settings().database_url))
    return 0


def cmd_keys_init(_args: argparse.Namespace) -> int:
    """Create the local keys if missing: token signing (+ JWKS), pseudonyms, record signing (+ public PEM)."""
    for line in ensure_local_keys(Settings()):
        print(line)
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    """Print a bearer token for a client, signed with the local development key.

    With `--guardian ID` (for a guardians' portal) print `TOKEN=…` and `ASSERTION=…` lines for `eval`:
    the portal's service token and a single-use, two-minute assertion of the guardian's identity.
    """
    from broker.crypto.assertions import mint_guardian_assertion
    from broker.crypto.tokens import ensure_dev_keys, mint_token

    settings = Settings()
    key = ensure_dev_keys(settings.dev_signing_key_file, settings.auth_jwks_file)
    lifetime = dt.timedelta(minutes=args.minutes)
    token = mint_token(key, args.client, settings.auth_issuer, settings.auth_audience, lifetime=lifetime)
    if args.guardian is None:
        print(token)
        return 0
    assertion = mint_guardian_assertion(
        key, args.guardian, args.client, settings.guardian_assertion_issuer, settings.guardian_assertion_audience
    )
    print(f"TOKEN={token}\nASSERTION={assertion}")
    return 0


def cmd_guardians_import(args: argparse.Namespace) -> int:
    """Load guardian mandates from a CSV or JSON register extract; a bad row is reported and nothing stored."""
    from broker.domain.mandates import MandateImportError
    from entrypoints.audit_commands import store_mandates
    from entrypoints.guardian_commands import read_mandates

    try:
        rows = read_mandates(args.file)
    except MandateImportError as error:
        for problem in error.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return 1
    result = asyncio.run(store_mandates(Settings(), rows))
    total = result.created + result.updated
    print(f"imported {total} mandates: {result.created} new, {result.updated} updated")
    return 0


def cmd_org_listen(args: argparse.Namespace) -> int:
    """Print each message arriving for an organiser: type, message id, case id."""
    from entrypoints.kafka_commands import party_connection
    from entrypoints.org_commands import record_keys

    settings = Settings()
    with contextlib.suppress(KeyboardInterrupt):
        keys, silta = record_keys(args, args.org, settings)
        connection = party_connection(args, args.org, settings)
        asyncio.run(_listen(args, connection, keys, silta))
    return 0


async def _listen(
    args: argparse.Namespace, connection: KafkaConnection, keys: OrganiserKeys, silta: SiltaKeySource
) -> int:
    from adapters.municipality.dedup import ProcessedMessages
    from adapters.municipality.listen import listen

    processed = ProcessedMessages.sqlite(args.processed_db) if args.processed_db else None
    try:
        if processed is not None:
            await processed.create()
        return await listen(
            args.org, connection, keys, silta, group=args.group, max_messages=args.max_messages, processed=processed
        )
    finally:
        if processed is not None:
            await processed.close()


def cmd_org_send(args: argparse.Namespace) -> int:
    """Send XML files to Kela as an organiser: checked, then produced to silta.from.<org>.v1."""
    from adapters.municipality.send import send_files
    from entrypoints.kafka_commands import party_connection
    from entrypoints.org_commands import record_keys

    settings = Settings()
    keys, silta = record_keys(args, args.org, settings)
    return asyncio.run(send_files(args.org, party_connection(args, args.org, settings), keys, silta, args.files))


def cmd_route(args: argparse.Namespace) -> int:
    """Print the recipient of a message type for each municipality code; exit 1 if any code fails."""
    from entrypoints.bootstrap import municipality_table
    from entrypoints.routing_report import route_lines

    lines, failed = route_lines(municipality_table(), args.type, args.codes)
    print("\n".join(lines))
    return 1 if failed else 0


def cmd_audit_subject(args: argparse.Namespace) -> int:
    """Print every disclosure and usage of one person's data; reads the identity code from standard input."""
    import getpass

    from entrypoints.audit_commands import subject_report

    code = getpass.getpass("personal identity code: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
    for line in asyncio.run(subject_report(Settings(), code, args.operator)):
        print(line)
    return 0


def cmd_retention_run(args: argparse.Namespace) -> int:
    """Empty message bodies and attachments past the retention period; the disclosure, receipt and usage logs stay."""
    from entrypoints.audit_commands import retention

    settings = Settings()
    result = asyncio.run(retention(settings, args.days or settings.retention_days))
    if result is None:
        print("another retention run is under way on this database; skipped")
        return 0
    cutoff = result.cutoff
    print(
        f"purged the bodies of {result.messages} messages whose last receipt or step was before"
        f" {cutoff:%Y-%m-%d %H:%M} UTC and {result.attachments} attachments no remaining message needs;"
        " log entries kept"
    )
    return 0


def cmd_policy_show(args: argparse.Namespace) -> int:
    """Print the disclosure policies as a table: type, recipient role, field, legal basis, purpose."""
    from broker.policy.report import policy_table

    print(policy_table(Settings().policy_dir, args.type, args.recipient))
    return 0


def cmd_policy_export(args: argparse.Namespace) -> int:
    """Write the disclosure policies as Markdown for legal review."""
    from broker.policy.report import policy_markdown

    Path(args.output).write_text(policy_markdown(Settings().policy_dir))
    print(f"wrote {args.output}")
    return 0


def cmd_access_export(args: argparse.Namespace) -> int:
    """Write the role table (who may call which route) as Markdown."""
    from adapters.access_docs import access_markdown
    from entrypoints.api import create_app

    Path(args.output).write_text(access_markdown(create_app(Settings()).openapi()))
    print(f"wrote {args.output}")
    return 0


def cmd_schemas_check(args: argparse.Namespace) -> int:
    """The evolution gate: each new schema version accepts the stored examples of the one before, unless breaking."""
    from broker.xml.evolution import check_evolution

    schema_dir = args.schemas or Settings().schema_dir
    report = check_evolution(schema_dir, args.examples or schema_dir / "examples")
    for line in report.checked:
        print(f"ok: {line}")
    for line in report.failures:
        print(f"FAILED: {line}")
    return 0 if report.ok else 1


def _add_schemas(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schemas = commands.add_parser("schemas", help="the message schemas").add_subparsers(
        dest="schemas_command", required=True
    )
    check = schemas.add_parser("check", help=cmd_schemas_check.__doc__)
    check.add_argument("--schemas", type=Path, default=None, help="the XSD folder (default: SILTA_SCHEMA_DIR)")
    check.add_argument("--examples", type=Path, default=None, help="the examples folder (default: <schemas>/examples)")
    check.set_defaults(handler=cmd_schemas_check)


def _add_audit_and_policy(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="the disclosure and usage logs").add_subparsers(
        dest="audit_command", required=True
    )
    add_anchor_commands(audit)
    subject = audit.add_parser("subject", help=cmd_audit_subject.__doc__)
    subject.add_argument("--operator", default="operator", help="who asks, for the usage log")
    subject.set_defaults(handler=cmd_audit_subject)
    retention = commands.add_parser("retention", help="retention of message bodies").add_subparsers(
        dest="retention_command", required=True
    )
    run = retention.add_parser("run", help=cmd_retention_run.__doc__)
    run.add_argument("--days", type=int, default=None, help="override SILTA_RETENTION_DAYS")
    run.set_defaults(handler=cmd_retention_run)
    policy = commands.add_parser("policy", help="the statutory disclosure policies").add_subparsers(
        dest="policy_command", required=True
    )
    show = policy.add_parser("show", help=cmd_policy_show.__doc__)
    show.add_argument("--type", default=None, help="only this message type")
    show.add_argument("--recipient", default=None, help="only this recipient role")
    show.set_defaults(handler=cmd_policy_show)
    export = policy.add_parser("export", help=cmd_policy_export.__doc__)
    export.add_argument("--output", default="docs/policy.md")
    export.set_defaults(handler=cmd_policy_export)
    access = commands.add_parser("access", help="the REST role table").add_subparsers(
        dest="access_command", required=True
    )
    access_export = access.add_parser("export", help=cmd_access_export.__doc__)
    access_export.add_argument("--output", default="docs/access.md")
    access_export.set_defaults(handler=cmd_access_export)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="silta", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help=cmd_serve.__doc__).set_defaults(handler=cmd_serve)
    db = commands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help=cmd_db_upgrade.__doc__).set_defaults(handler=cmd_db_upgrade)
    keys = commands.add_parser("keys", help="Silta's keys: create, rotate, retire").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("init", help=cmd_keys_init.__doc__).set_defaults(handler=cmd_keys_init)
    add_key_commands(keys, [*KEY_PURPOSES, *RECORD_KEY_PURPOSES])
    token = commands.add_parser("token", help=cmd_token.__doc__)
    token.add_argument("--client", required=True, help="the client id, e.g. kela")
    token.add_argument("--minutes", type=int, default=60, help="how long the token is valid")
    token.add_argument("--guardian", default=None, help="also mint a guardian assertion for this guardian id")
    token.set_defaults(handler=cmd_token)
    org = commands.add_parser("org", help="an organiser's side").add_subparsers(dest="org_command", required=True)
    listen = org.add_parser("listen", help=cmd_org_listen.__doc__)
    listen.add_argument("--org", required=True, help="organiser id, e.g. hva-90")
    listen.add_argument("--group", default=None, help="consumer group (default <org>.case-system)")
    listen.add_argument("--max-messages", type=int, default=None, help="stop after this many")
    listen.add_argument(
        "--processed-db", type=Path, default=None, help="SQLite file of processed ids: repeats show as `duplicate`"
    )
    add_bus_options(listen)
    add_record_key_options(listen)
    listen.set_defaults(handler=cmd_org_listen)
    send = org.add_parser("send", help=cmd_org_send.__doc__)
    send.add_argument("--org", required=True, help="organiser id, e.g. hva-08")
    send.add_argument("files", nargs="+", type=Path, help="XML documents to send")
    add_bus_options(send)
    add_record_key_options(send)
    send.set_defaults(handler=cmd_org_send)
    add_org_key_commands(org)
    route = commands.add_parser("route", help=cmd_route.__doc__)
    route.add_argument("--type", required=True, help="message type, e.g. application-transfer")
    route.add_argument("codes", nargs="+", help="three-digit municipality codes")
    route.set_defaults(handler=cmd_route)
    guardians = commands.add_parser("guardians", help="the guardian mandate registry").add_subparsers(
        dest="guardians_command", required=True
    )
    imports = guardians.add_parser("import", help=cmd_guardians_import.__doc__)
    imports.add_argument("file", type=Path, help="CSV (with a header) or JSON (a list of objects)")
    imports.set_defaults(handler=cmd_guardians_import)
    _add_audit_and_policy(commands)
    _add_schemas(commands)
    add_kafka_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `silta` command; settings that do not fit are named (never their values), exit 2."""
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except ValidationError as error:
        if error.title != "Settings":
            raise
        for problem in error.errors(include_input=False, include_url=False):
            name = "SILTA_" + "_".join(str(part) for part in problem["loc"]).upper()
            print(f"silta: {name}: {problem['msg']}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
