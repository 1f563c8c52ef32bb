"""The Grafana dashboard in `deploy/grafana/silta.json` charts only series Silta exports, and every operations one."""

from __future__ import annotations

import json
import re

from prometheus_client.registry import REGISTRY

import broker.services.ops_metrics  # noqa: F401  registers the operations gauges
from broker.settings import PROJECT_ROOT

_OPERATIONS = {
    "silta_outbox_pending",
    "silta_parked_records",
    "silta_overdue_requests",
    "silta_consumer_lag_records",
    "silta_messages_accepted_total",
    "silta_delivery_seconds_bucket",
}


def _charted() -> set[str]:
    """Every `silta_*` series named in a panel's query."""
    dashboard = json.loads((PROJECT_ROOT / "deploy" / "grafana" / "silta.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    return {name for expr in expressions for name in re.findall(r"silta_[a-z_]+", expr)}


def _exported() -> set[str]:
    """Every sample name the process registry exports."""
    return {sample.name for family in REGISTRY.collect() for sample in family.samples} | {
        family.name for family in REGISTRY.collect()
    }


def test_the_dashboard_charts_every_operations_series() -> None:
    """Backlog, parked, overdue, lag, accepted by channel and delivery latency each have a panel."""
    assert _charted() >= _OPERATIONS


def test_the_dashboard_names_only_series_silta_exports() -> None:
    """A renamed metric would leave an empty panel: every charted name is exported (or is a labelled family)."""
    exported = _exported()
    missing = {name for name in _charted() if name not in exported and name.removesuffix("_total") not in exported}
    assert not missing
