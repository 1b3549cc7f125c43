"""The chart's alerting rules as Prometheus itself reads them: `promtool check rules` on the rendered rules, and
`promtool test rules` on what must and must not fire (series written as a scrape would have them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import promtool
from tests.unit.ops.test_chart import PRODUCTION, by_kind, merged, render

LABELS = 'namespace="shop",service="dc-dayclose-consumer",pod="dc-dayclose-consumer-1"'
RUNBOOK = PRODUCTION["prometheusRule"]["runbookUrl"]
ABSENT = {
    "runbook_url": f"{RUNBOOK}#daycloseconsumerabsent",
    "summary": "No dayclose consumer has a partition of the sales topic (none running, or none assigned).",
}


def rules_file(tmp_path: Path, values: dict[str, Any]) -> Path:
    (rule,) = by_kind(render(values), "PrometheusRule").values()
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    return path


@pytest.mark.parametrize("values", [{"prometheusRule": {"enabled": True}}, PRODUCTION], ids=["default", "production"])
def test_the_rendered_rules_pass_promtool(tmp_path: Path, values: dict[str, Any]) -> None:
    checked = promtool.run("check", "rules", rules_file(tmp_path, values))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 12 rules found" in checked.stdout


def unit_tests(rules: Path, tests: list[dict[str, Any]]) -> str:
    path = rules.with_name("tests.yaml")
    path.write_text(
        yaml.safe_dump({"rule_files": [rules.name], "evaluation_interval": "1m", "tests": tests}, sort_keys=False)
    )
    done = promtool.run("test", "rules", path.name, cwd=path.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_quiet_consumer_with_partitions_is_not_absent_and_no_consumer_is(tmp_path: Path) -> None:
    """What DaycloseConsumerAbsent saw on a quiet environment before the lag fix: no lag series at all. It now
    reads the assigned partitions, which every fetched partition counts (tests/unit/ops/test_metrics.py)."""
    rules = rules_file(tmp_path, PRODUCTION)
    alert = {"alertname": "DaycloseConsumerAbsent", "severity": "critical"}
    unit_tests(
        rules,
        [
            {
                "interval": "1m",
                "input_series": [{"series": f"dayclose_consumer_assigned_partitions{{{LABELS}}}", "values": "6x30"}],
                "alert_rule_test": [{"eval_time": "20m", "alertname": "DaycloseConsumerAbsent", "exp_alerts": []}],
            },
            {
                "interval": "1m",
                "input_series": [{"series": f"dayclose_consumer_assigned_partitions{{{LABELS}}}", "values": "0x30"}],
                "alert_rule_test": [
                    {
                        "eval_time": "20m",
                        "alertname": "DaycloseConsumerAbsent",
                        "exp_alerts": [{"exp_labels": alert, "exp_annotations": ABSENT}],
                    }
                ],
            },
            {
                "interval": "1m",
                "input_series": [{"series": 'up{job="other"}', "values": "1x30"}],
                "alert_rule_test": [
                    {
                        "eval_time": "20m",
                        "alertname": "DaycloseConsumerAbsent",
                        "exp_alerts": [{"exp_labels": {**alert, "namespace": "shop"}, "exp_annotations": ABSENT}],
                    }
                ],
            },
        ],
    )


def overdue(value: str, waiting_on: str = "dayclose", older_than: str = "1h") -> dict[str, str]:
    labels = f'{LABELS},older_than="{older_than}",waiting_on="{waiting_on}"'
    return {"series": f"dayclose_day_closes_overdue{{{labels}}}", "values": value}


def test_an_unbooked_day_close_of_ours_alerts_one_waiting_on_a_merchant_does_not(tmp_path: Path) -> None:
    rules = rules_file(tmp_path, PRODUCTION)
    name = "DaycloseDayClosesOverdue"
    unit_tests(
        rules,
        [
            {
                "interval": "1m",
                "input_series": [overdue("2x40"), overdue("5x40", waiting_on="merchant")],
                "alert_rule_test": [
                    {"eval_time": "10m", "alertname": name, "exp_alerts": []},  # not yet 15 minutes
                    {
                        "eval_time": "20m",
                        "alertname": name,
                        "exp_alerts": [
                            {
                                "exp_labels": {"alertname": name, "severity": "warning"},
                                "exp_annotations": {
                                    "runbook_url": f"{RUNBOOK}#dayclosedayclosesoverdue",
                                    "summary": "2 closed store-day(s) not booked 1h after their day close, for a "
                                    "reason that is not the merchant's to fix.",
                                },
                            }
                        ],
                    },
                ],
            },
            {
                "interval": "1m",
                "input_series": [overdue("0x40"), overdue("5x40", waiting_on="merchant")],
                "alert_rule_test": [{"eval_time": "30m", "alertname": name, "exp_alerts": []}],
            },
            {
                "interval": "1m",
                "input_series": [overdue("1x10", older_than="24h")],
                "alert_rule_test": [
                    {
                        "eval_time": "5m",
                        "alertname": "DaycloseDayClosesOverdueForADay",
                        "exp_alerts": [
                            {
                                "exp_labels": {"alertname": "DaycloseDayClosesOverdueForADay", "severity": "critical"},
                                "exp_annotations": {
                                    "runbook_url": f"{RUNBOOK}#dayclosedayclosesoverdue",
                                    "summary": "1 closed store-day(s) still not booked a day after their day close; "
                                    "merchants' books are behind.",
                                },
                            }
                        ],
                    }
                ],
            },
        ],
    )


def test_the_overdue_threshold_is_a_value(tmp_path: Path) -> None:
    rules = rules_file(tmp_path, merged(PRODUCTION, {"prometheusRule": {"overdueAfter": "6h"}}))
    assert 'older_than="6h"' in rules.read_text()
