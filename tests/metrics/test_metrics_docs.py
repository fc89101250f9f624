"""docs/metrics.md describes every metric the code records, under the name Prometheus shows,
with its type and labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from genesis.failover.domain.metrics import OURS, Metric

DOC = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text()


@pytest.mark.parametrize("metric", OURS, ids=[m.name for m in OURS])
def test_every_metric_has_a_row_with_its_type_and_labels(metric: Metric) -> None:
    rows = [line for line in DOC.splitlines() if line.startswith(f"| `{metric.exported}` |")]
    assert len(rows) == 1, f"no row for {metric.exported} in docs/metrics.md"
    cells = [c.strip() for c in rows[0].split("|")]
    assert cells[2] == metric.kind
    for label in metric.labels:
        assert f"`{label}`" in cells[3], f"{metric.exported}: label {label} not in its row"
