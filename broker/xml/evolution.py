"""The schema evolution gate: a new version must accept what the version before it accepted.

For each message type and each live version after the first, every stored
valid example of the previous version (`schemas/examples/valid/<type>.xml` and
`<type>--*.xml`, by the version their envelope names) is validated against the
new version's XSD, with its `SchemaVersion` set to the new version. If one of
them is refused, the new version breaks documents that senders and recipients
already produce; that is allowed only when the catalogue declares the version
`breaking`, so that the change is a decision and not an accident. Every live
version must have at least one stored example, or the next version would have
nothing to be checked against.

`silta schemas check` runs the gate; so does a unit test, on every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from broker.domain.catalogue import CATALOGUE, MessageType, SchemaVersion
from broker.domain.envelope import ENVELOPE_NAMESPACE
from broker.domain.errors import Rejection
from broker.xml.validation import SchemaRegistry

_VERSION_TAG = f"{{{ENVELOPE_NAMESPACE}}}SchemaVersion"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)
_REASONS_SHOWN = 3


@dataclass
class GateReport:
    """What the gate checked, and what fails it."""

    checked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True if nothing fails the gate."""
        return not self.failures


def check_evolution(schema_dir: Path, examples_dir: Path, types: Iterable[MessageType] | None = None) -> GateReport:
    """Run the gate over `types` (the whole catalogue by default) with the XSDs and examples in these folders."""
    chosen = list(CATALOGUE.values() if types is None else types)
    registry = SchemaRegistry(schema_dir, chosen)
    report = GateReport()
    for message_type in chosen:
        samples = {v.number: samples_of(examples_dir, message_type, v.number) for v in message_type.versions}
        report.failures += [
            f"{message_type.name} {number}: no stored valid example of this version"
            for number, paths in samples.items()
            if not paths
        ]
        for previous, new in zip(message_type.versions, message_type.versions[1:], strict=False):
            _check_step(registry, message_type, samples[previous.number], previous=previous, new=new, report=report)
    return report


def samples_of(examples_dir: Path, message_type: MessageType, version: str) -> list[Path]:
    """The stored valid examples of a type whose envelope names `version`."""
    valid = examples_dir / "valid"
    candidates = sorted([*valid.glob(f"{message_type.name}.xml"), *valid.glob(f"{message_type.name}--*.xml")])
    return [path for path in candidates if _version_of(path) == version]


def _version_of(path: Path) -> str | None:
    node = next(etree.parse(str(path), _PARSER).getroot().iter(_VERSION_TAG), None)
    return None if node is None or node.text is None else node.text.strip()


def _check_step(
    registry: SchemaRegistry,
    message_type: MessageType,
    samples: list[Path],
    *,
    previous: SchemaVersion,
    new: SchemaVersion,
    report: GateReport,
) -> None:
    """Validate the previous version's samples as documents of the new version."""
    step = f"{message_type.name} {previous.number} → {new.number}"
    refused = {path.name: reasons for path in samples if (reasons := _refusal(registry, message_type, path, new))}
    if not refused:
        report.checked.append(f"{step}: compatible, {len(samples)} example(s) of {previous.number} stay valid")
    elif new.breaking:
        report.checked.append(f"{step}: breaking (declared), {len(refused)} of {len(samples)} example(s) refused")
    else:
        report.failures += [
            f"{step}: {name} is refused but {new.number} is not declared breaking: {'; '.join(reasons)}"
            for name, reasons in sorted(refused.items())
        ]


def _refusal(registry: SchemaRegistry, message_type: MessageType, path: Path, new: SchemaVersion) -> list[str]:
    """Why the new version refuses the sample (empty if it accepts it)."""
    root = etree.parse(str(path), _PARSER).getroot()
    for node in root.iter(_VERSION_TAG):
        node.text = new.number
    try:
        registry.validate(root, message_type)
    except Rejection as rejection:
        return [f"{item.path}: {item.reason}" for item in rejection.errors[:_REASONS_SHOWN]] or [rejection.detail]
    return []
