"""Architecture rules: the layers of docs/architecture.md, checked on the import graph.

- the pure core (domain, policy, xml, the pipeline) imports no I/O library;
- the core (`broker/`) imports no adapter, no entrypoint and no development launcher;
- adapters call the service layer: they import neither the store nor SQLAlchemy;
- only the composition root (`entrypoints/`) builds engines, Kafka clients and the app;
- nothing installed imports the development launchers (`devinfra/`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from broker.domain.clock import ManualClock
from broker.settings import PROJECT_ROOT, Settings
from entrypoints.bootstrap import build_pipeline

BROKER = PROJECT_ROOT / "broker"
ADAPTERS = PROJECT_ROOT / "adapters"
ENTRYPOINTS = PROJECT_ROOT / "entrypoints"
INSTALLED = (BROKER, ADAPTERS, ENTRYPOINTS)
PURE = ["domain", "policy", "xml", "pipeline.py"]
CASE_SYSTEM_STORE = ADAPTERS / "municipality" / "dedup.py"
"""The reference client's processed-message store: in the case system's own database, never Silta's store."""
IO_LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "aiokafka", "httpx", "uvicorn", "asyncpg", "aiosqlite")
WIRING = ("create_async_engine(", "KafkaPublisher(", "OutboxRelay(", "InboundConsumer(", "FastAPI(")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(root: Path, *parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts or ("",):
        target = root / part
        files.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return files


def _id(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT))


@pytest.mark.parametrize("path", _files(BROKER, *PURE), ids=_id)
def test_pure_core_imports_no_io_library(path: Path) -> None:
    """Envelope, catalogue, lifecycle, routing, policy and pipeline import no web, database or Kafka library."""
    offending = {name for name in _imports(path) if name.split(".")[0] in IO_LIBRARIES}
    assert not offending


@pytest.mark.parametrize("path", _files(BROKER), ids=_id)
def test_core_imports_no_adapter_or_entrypoint(path: Path) -> None:
    """The core knows no channel: it never imports an adapter, the composition root or a launcher."""
    outward = ("adapters", "entrypoints", "devinfra", "chaos")
    assert not {name for name in _imports(path) if name.split(".")[0] in outward}


@pytest.mark.parametrize("path", [p for p in _files(ADAPTERS) if p != CASE_SYSTEM_STORE], ids=_id)
def test_adapters_use_the_service_layer_not_the_store(path: Path) -> None:
    """REST routers and the organiser client hold no queries: no `broker.store`, no SQLAlchemy.

    Except the client's store of processed ids, which a case system keeps in its own database.
    """
    offending = {name for name in _imports(path) if name.startswith("broker.store") or name.startswith("sqlalchemy")}
    assert not offending


def test_the_case_system_store_uses_no_silta_store() -> None:
    """The one adapter with SQLAlchemy reaches the case system's database only, never `broker.store`."""
    assert not {name for name in _imports(CASE_SYSTEM_STORE) if name.startswith("broker.store")}


@pytest.mark.parametrize("path", [p for root in INSTALLED for p in _files(root)], ids=_id)
def test_installed_code_never_imports_the_launchers(path: Path) -> None:
    """`devinfra/` (local Kafka and PostgreSQL) and `chaos/` are for development and tests; the wheel ships neither."""
    assert not {name for name in _imports(path) if name.split(".")[0] in {"devinfra", "chaos"}}


def test_only_the_composition_root_wires() -> None:
    """Engines, Kafka clients, the relay, the consumer and the app are built in `entrypoints/` alone."""
    builders = {
        _id(path)
        for root in (BROKER, ADAPTERS)
        for path in _files(root)
        if any(call in path.read_text() for call in WIRING)
    }
    # where the classes are defined, Alembic's own engine for migrations, and the case system's store's SQLite
    wired = {"broker/kafka/publisher.py", "broker/kafka/inbound.py", "broker/store/migrate.py", _id(CASE_SYSTEM_STORE)}
    assert builders <= wired


def test_only_the_relay_publishes() -> None:
    """No code path sends to Kafka except the publisher behind the outbox relay (so nothing skips the filter)."""
    senders = [p for p in BROKER.rglob("*.py") if "AIOKafkaProducer(" in p.read_text()]
    assert senders == [BROKER / "kafka" / "publisher.py"]


def test_pipelines_share_the_compiled_schemas_but_not_their_clock() -> None:
    """Building a pipeline per app is cheap: the XSDs compile once per process; each app keeps its own clock."""
    first, second = build_pipeline(Settings()), build_pipeline(Settings(), ManualClock())
    assert first.schemas is second.schemas
    assert first.clock is not second.clock


def test_the_core_reads_the_time_only_through_the_clock_port() -> None:
    """No `datetime.now()` or `date.today()` in the core or the channels: tests move a ManualClock instead.

    The one exception mints development tokens for `silta token`, which no test needs to move.
    """
    readers = {
        _id(path)
        for root in INSTALLED
        for path in _files(root)
        if any(call in path.read_text() for call in ("datetime.now(", "date.today(", "datetime.utcnow("))
    }
    assert readers <= {"broker/domain/clock.py", "broker/crypto/tokens.py"}
