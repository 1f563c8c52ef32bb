"""Architecture rules: the core stays pure and imports no adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from broker.settings import PROJECT_ROOT

BROKER = PROJECT_ROOT / "broker"
PURE = ["domain", "policy", "xml", "pipeline.py"]
IO_LIBRARIES = ("fastapi", "starlette", "sqlalchemy", "aiokafka", "httpx", "uvicorn", "asyncpg", "aiosqlite")
COMPOSITION_ROOTS = {BROKER / "app.py", BROKER / "cli.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _files(*parts: str) -> list[Path]:
    files: list[Path] = []
    for part in parts:
        target = BROKER / part
        files.extend(sorted(target.rglob("*.py")) if target.is_dir() else [target])
    return files


@pytest.mark.parametrize("path", _files(*PURE), ids=lambda p: str(p.relative_to(BROKER)))
def test_pure_core_imports_no_io_library(path: Path) -> None:
    """Envelope, catalogue, routing, policy and pipeline import no web, database or Kafka library."""
    offending = {name for name in _imports(path) if name.split(".")[0] in IO_LIBRARIES}
    assert not offending


@pytest.mark.parametrize(
    "path", sorted(set(BROKER.rglob("*.py")) - COMPOSITION_ROOTS), ids=lambda p: str(p.relative_to(BROKER))
)
def test_core_imports_no_adapter(path: Path) -> None:
    """Only the composition root (app factory, CLI) may import adapters."""
    assert not {name for name in _imports(path) if name.startswith("adapters")}


def test_only_the_relay_publishes() -> None:
    """No code path sends to Kafka except the publisher behind the outbox relay (so nothing skips the filter)."""
    senders = [p for p in BROKER.rglob("*.py") if "AIOKafkaProducer(" in p.read_text()]
    assert senders == [BROKER / "kafka" / "publisher.py"]
