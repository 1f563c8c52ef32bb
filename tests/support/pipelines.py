"""One message pipeline per configuration for the whole test session.

Building the pipeline compiles every message type's schema twice (libxml2 and
xmlschema) and checks each policy against it: about two seconds. The unit
tests build one per module and every integration test's app built one more in
its lifespan. The pipeline is immutable once built, so the session builds it
once per distinct configuration (the schema and policy files, the limits and
the keys) and hands the same one out again; any change to those inputs gives
a fresh build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from pathlib import Path

from broker.pipeline import MessagePipeline
from broker.settings import Settings
from entrypoints import api

BuildPipeline = Callable[[Settings], MessagePipeline]


def _files_fingerprint(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file under a folder with its size and modification time."""
    if not folder.is_dir():
        return ()
    return tuple(
        (str(path.relative_to(folder)), path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    )


def _file_digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def pipeline_inputs(settings: Settings) -> Hashable:
    """Everything `build_pipeline` reads: two equal values give interchangeable pipelines."""
    return (
        str(settings.schema_dir.resolve()),
        _files_fingerprint(settings.schema_dir),
        str(settings.policy_dir.resolve()),
        _files_fingerprint(settings.policy_dir),
        settings.max_message_bytes,
        settings.max_xml_depth,
        str(settings.pseudonym_key_file),
        _file_digest(settings.pseudonym_key_file),
        str(settings.record_signing_key_file),
        _file_digest(settings.record_signing_key_file),
        settings.record_signing_key_id,
    )


def sharing(build: BuildPipeline) -> BuildPipeline:
    """`build`, remembering its pipeline for each distinct set of inputs (failures are not remembered)."""
    built: dict[Hashable, MessagePipeline] = {}

    def shared_build_pipeline(settings: Settings) -> MessagePipeline:
        """The pipeline for these settings' inputs, built on first use."""
        key = pipeline_inputs(settings)
        if key not in built:
            built[key] = build(settings)
        return built[key]

    return shared_build_pipeline


def share_pipelines_in_this_process() -> None:
    """Make `entrypoints.api.build_pipeline` (the app's lifespan and the unit tests call it) share pipelines."""
    if getattr(api.build_pipeline, "__name__", "") != "shared_build_pipeline":
        api.build_pipeline = sharing(api.build_pipeline)  # type: ignore[assignment]  # same call, shared result
