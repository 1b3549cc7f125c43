"""Every metric name the two processes can export, as PromQL sees them (counters with ``_total``, histograms with
``_bucket``/``_count``/``_sum``): what the chart's alerts and dashboard may query."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from consumer.metrics import ConsumerLagCollector
from dayclose import telemetry
from storage.backlog import Backlog

_SUFFIXES = {"counter": ["_total", "_created"], "histogram": ["_count", "_sum", "_bucket", "_created"]}


def exported_metric_names() -> set[str]:
    lag = ConsumerLagCollector()  # the lag families exist once librdkafka reported
    lag.update('{"topics": {"t": {"partitions": {"0": {"fetch_state": "active", "consumer_lag": 1}}}}}')
    registries: list[CollectorRegistry] = [
        telemetry.consumer_registry(lag, lambda: (0, 0.0), Backlog),
        telemetry.api_registry(),
    ]
    return {
        fam.name + suffix
        for registry in registries
        for fam in registry.collect()
        for suffix in _SUFFIXES.get(fam.type, [""])
    }
