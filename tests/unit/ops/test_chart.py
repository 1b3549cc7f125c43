"""The Helm chart, offline: render (helm-python-sdk = Helm's Go SDK), strict lint, Kubernetes schemas.

Every manifest of every rendering is validated against the Kubernetes OpenAPI schemas bundled in
``kubernetes-validate`` (strict: unknown fields fail). The three CRD kinds (KEDA, Prometheus
Operator) have no bundled schema and are checked by hand below.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

helm = pytest.importorskip("helm_python")
kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "helm" / "dayclose"
KUBE_VERSION = "1.30.0"
CRD_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
}

#: The least an install must give: the values without a usable default (the chart refuses to render without them).
MINIMAL = {
    "config": {"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "BL_CLIENT_ID": "open2-dayclose"},
    "secrets": {
        "DATABASE_URL": "postgresql://dayclose@db/dayclose",
        "BL_CLIENT_SECRET": "bl-secret",
        "DAYCLOSE_KEY_ENCRYPTION_KEY": "u4mC9lQ0n7c3qgQ3vJm4n2Yc0q1J8m0bH9tV6yZk2aE=",
        "DAYCLOSE_API_TOKENS": "k1:" + "x" * 40,
    },
}
PRODUCTION = {
    "image": {"repository": "registry.example.com/dayclose", "digest": "sha256:" + "a" * 64},
    "existingSecret": "dayclose-secrets",
    "config": {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-0.kafka:9093,kafka-1.kafka:9093",
        "SCHEMA_REGISTRY_URL": "http://schema-registry:8081",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "dayclose",
        "BL_CLIENT_ID": "open2-dayclose",
        "DAYCLOSE_EXPORT_WORKERS": "8",
        "BL_MAX_REQUESTS_PER_SECOND": "2.5",
    },
    "kafka": {"salesTopicPartitions": 24},
    "consumer": {
        "keda": {"enabled": True, "minReplicas": 2, "maxReplicas": 8, "triggerAuthenticationName": "kafka-sasl"},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "consumer"}},
            }
        ],
    },
    "api": {"autoscaling": {"enabled": True, "minReplicas": 3, "maxReplicas": 10}},
    "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
    "prometheusRule": {"enabled": True, "runbookUrl": "https://runbooks.example.com/dayclose/runbook.md"},
    "grafanaDashboard": {"enabled": True},
    "networkPolicy": {
        "egress": [
            {
                "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
                "ports": [{"port": 5432, "protocol": "TCP"}, {"port": 9093, "protocol": "TCP"}],
            },
            {
                "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                "ports": [{"port": 443, "protocol": "TCP"}],
            },
        ]
    },
    "imagePullSecrets": [{"name": "registry"}],
}
VALUE_SETS = {"default": MINIMAL, "production": PRODUCTION}


def merged(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in values.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def render(
    values: dict[str, Any] | None, chart: Path = CHART, base: dict[str, Any] | None = MINIMAL
) -> list[dict[str, Any]]:
    """The chart rendered with ``values`` over ``base`` (the required values, unless told otherwise)."""
    with helm.Chart.load(chart) as loaded:
        out = loaded.render(merged(base or {}, values or {}), name="dc", namespace="shop", is_install=True)
    docs: list[dict[str, Any]] = []
    for path, text in sorted(out.items()):
        if path.endswith(".txt"):
            continue
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(VALUE_SETS[request.param])


# --- lint, render, schemas ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(VALUE_SETS))
def test_chart_lints_strictly_without_warnings(name: str) -> None:
    report = helm.lint(CHART, VALUE_SETS[name], strict=True, namespace="shop", kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == []
    problems = [m for m in report["messages"] if m["severity"] >= 2]  # 2 = warning, 3 = error
    assert problems == []


def test_every_manifest_validates_against_the_kubernetes_schemas(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _name, docs = rendered
    assert docs
    for doc in docs:
        if (doc["apiVersion"], doc["kind"]) in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_the_production_rendering_has_every_optional_object(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    name, docs = rendered
    kinds = sorted({d["kind"] for d in docs})
    base = ["ConfigMap", "Deployment", "Job", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"]
    base.append("CronJob")
    if name == "default":
        assert kinds == sorted([*base, "Secret"])
    else:  # secret comes from existingSecret
        assert kinds == sorted([*base, "HorizontalPodAutoscaler", "PrometheusRule", "ScaledObject", "ServiceMonitor"])


def test_crd_objects_have_the_fields_their_operators_need() -> None:
    docs = render(PRODUCTION)
    (scaled,) = by_kind(docs, "ScaledObject").values()
    assert scaled["spec"]["scaleTargetRef"]["name"] == "dc-dayclose-consumer"
    assert scaled["spec"]["minReplicaCount"] >= 1
    assert scaled["spec"]["maxReplicaCount"] <= PRODUCTION["kafka"]["salesTopicPartitions"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka" and trigger["authenticationRef"] == {"name": "kafka-sasl"}
    assert trigger["metadata"]["consumerGroup"] == "dayclose"
    assert trigger["metadata"]["topic"] == "pos.sales.v1"
    assert all(isinstance(v, str) for v in trigger["metadata"].values())  # KEDA wants strings
    (monitor,) = by_kind(docs, "ServiceMonitor").values()
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
    ]
    services = by_kind(docs, "Service").values()
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert len([s for s in services if selector.items() <= s["metadata"]["labels"].items()]) == 2


def test_alert_rules_only_use_metrics_the_code_exports() -> None:
    from tests.metric_names import exported_metric_names

    exported = exported_metric_names()
    (rule,) = by_kind(render(PRODUCTION), "PrometheusRule").values()
    rules = rule["spec"]["groups"][0]["rules"]
    assert len(rules) >= 8
    for r in rules:
        used = set(re.findall(r"\bdayclose_[a-z_]+", r["expr"]))
        assert used, r["alert"]
        assert used <= exported, (r["alert"], used - exported)
        base, _, anchor = r["annotations"]["runbook_url"].partition("#")
        assert base == PRODUCTION["prometheusRule"]["runbookUrl"]
        assert anchor in runbook_anchors(), (r["alert"], anchor)


def runbook_anchors() -> set[str]:
    """The anchors GitHub gives docs/runbook.md's headings: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", (ROOT / "docs" / "runbook.md").read_text(), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_dashboard_ships_with_the_sidecar_label_and_queries_only_metrics_the_code_exports() -> None:
    from tests.metric_names import exported_metric_names

    (config_map,) = [d for d in render(PRODUCTION) if d["metadata"]["name"] == "dc-dayclose-dashboard"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(config_map["data"]["dayclose.json"])
    assert dashboard == json.loads((CHART / "dashboards" / "dayclose.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    assert len(exprs) >= 20
    used = {m for e in exprs for m in re.findall(r"\bdayclose_[a-z_]+", e)}
    assert used and used <= exported_metric_names(), used - exported_metric_names()
    assert "dc-dayclose-dashboard" not in {d["metadata"]["name"] for d in render(None)}  # off by default


def test_the_default_values_alone_fail_naming_every_required_one() -> None:
    with pytest.raises(helm.HelmRenderError) as refused:
        render(None, base=None)
    message = str(refused.value)
    for name in (
        "config.KAFKA_BOOTSTRAP_SERVERS",
        "config.BL_CLIENT_ID",
        "secrets.DATABASE_URL",
        "secrets.BL_CLIENT_SECRET",
        "secrets.DAYCLOSE_KEY_ENCRYPTION_KEY",
        "secrets.DAYCLOSE_API_TOKENS",
    ):
        assert name in message
    only_config = {k: v for k, v in PRODUCTION.items() if k != "config"}
    with pytest.raises(helm.HelmRenderError, match=r"required values missing: config.KAFKA_BOOTSTRAP_SERVERS, "
                       r"config.BL_CLIENT_ID \("):  # fmt: skip
        render(only_config, base=None)  # existingSecret: no secret is asked for


def test_the_purge_runs_daily_in_stockholm_and_never_twice_at_once() -> None:
    (cron,) = by_kind(render(None), "CronJob").values()
    assert cron["spec"]["timeZone"] == "Europe/Stockholm" and cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["purge", "--yes"]  # non-interactive: --yes, or it refuses
    assert by_kind(render({"purge": {"enabled": False}}), "CronJob") == {}


def test_the_api_drains_before_it_stops_and_spreads_over_nodes_and_zones() -> None:
    api = by_kind(render(None), "Deployment")["dc-dayclose-api"]["spec"]["template"]["spec"]
    (container,) = api["containers"]
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    spread = api["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert all(c["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api" for c in spread)
    with pytest.raises(helm.HelmRenderError, match="plus api.preStopSleepSeconds"):
        render({"api": {"terminationGracePeriodSeconds": 33, "preStopSleepSeconds": 5}})
    own = [{"maxSkew": 2, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "api"}}}]  # fmt: skip
    assert by_kind(render({"api": {"topologySpreadConstraints": own}}), "Deployment")["dc-dayclose-api"]["spec"][
        "template"]["spec"]["topologySpreadConstraints"] == own  # fmt: skip


def test_keda_gets_the_consumers_kafka_credentials_from_where_the_pods_read_them() -> None:
    values = merged(PRODUCTION, {"consumer": {"keda": {"triggerAuthenticationName": ""}}})
    docs = render(values)
    (auth,) = by_kind(docs, "TriggerAuthentication").values()
    assert auth["spec"]["env"] == [
        {"parameter": "username", "name": "KAFKA_SASL_USERNAME", "containerName": "consumer"}
    ]
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "password", "name": "dayclose-secrets", "key": "KAFKA_SASL_PASSWORD"}
    ]
    (scaled,) = by_kind(docs, "ScaledObject").values()
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["authenticationRef"] == {"name": auth["metadata"]["name"]}
    assert (trigger["metadata"]["sasl"], trigger["metadata"]["tls"]) == ("scram_sha512", "enable")
    assert by_kind(render(PRODUCTION), "TriggerAuthentication") == {}  # one of your own is named instead
    with pytest.raises(helm.HelmRenderError, match="supports PLAIN and SCRAM"):
        render(merged(values, {"config": {"KAFKA_SASL_MECHANISM": "OAUTHBEARER"}}))


# --- configuration is the settings object, 1:1 ------------------------------------------------------


def settings_env_names() -> set[str]:
    """Every environment variable name dayclose/config.py reads (first string argument after env)."""
    tree = ast.parse((ROOT / "dayclose" / "config.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"_get", "_require", "_parse"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            names.add(node.args[1].value)
    assert len(names) > 20
    return names


def test_configmap_and_secret_map_one_to_one_to_the_settings_object() -> None:
    docs = render(None)
    config = by_kind(docs, "ConfigMap")["dc-dayclose-config"]["data"]
    secret = by_kind(docs, "Secret")["dc-dayclose-secret"]["stringData"]
    assert set(config) | set(secret) == settings_env_names()
    assert not set(config) & set(secret)
    for name in (
        "DATABASE_URL",
        "BL_CLIENT_SECRET",
        "KAFKA_SASL_PASSWORD",
        "DAYCLOSE_KEY_ENCRYPTION_KEY",
        "DAYCLOSE_API_TOKENS",
    ):
        assert name in secret


def test_rendered_defaults_load_as_settings() -> None:
    """The ConfigMap's values parse with the real loader (plus the required secrets)."""
    from dayclose.config import load_settings

    docs = render({"config": {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "BL_CLIENT_ID": "c"}})
    env = dict(by_kind(docs, "ConfigMap")["dc-dayclose-config"]["data"])
    assert env["DAYCLOSE_API_DOCS"] == "false"  # Swagger UI is off unless asked for
    env.update(DATABASE_URL="postgresql://x@y/z", BL_CLIENT_SECRET="s")  # noqa: S106 - test value
    settings = load_settings(env)
    assert settings.log_format == "json" and settings.http_port == 8080 and settings.export_workers == 4
    assert settings.retry_backoff_max_s == 900.0 and settings.migrate_on_start is False


def test_a_misspelt_setting_is_refused_by_the_values_schema() -> None:
    report = helm.lint(CHART, merged(MINIMAL, {"config": {"KAFKA_BOOTSTRAP_SERVER": "k:9092"}}), strict=True)
    assert any("KAFKA_BOOTSTRAP_SERVER" in e for e in report["errors"])


def test_existing_secret_replaces_the_chart_secret_everywhere() -> None:
    docs = render(PRODUCTION)
    assert by_kind(docs, "Secret") == {}
    for pod in pod_specs(docs):
        refs = [e["secretRef"]["name"] for c in pod["containers"] for e in c["envFrom"] if "secretRef" in e]
        assert refs == ["dayclose-secrets"]


# --- pods: security, probes, migration, scaling -------------------------------------------------------


def pod_specs(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    pods = [d["spec"]["template"]["spec"] for d in docs if d["kind"] in {"Deployment", "Job"}]
    return pods + [d["spec"]["jobTemplate"]["spec"]["template"]["spec"] for d in docs if d["kind"] == "CronJob"]


def test_every_pod_is_non_root_read_only_and_unprivileged(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _name, docs = rendered
    pods = pod_specs(docs)
    assert len(pods) == 4
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        for c in pod["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
            assert sc["privileged"] is False and sc["capabilities"]["drop"] == ["ALL"]
            assert c["resources"]["requests"] and c["resources"]["limits"]["memory"]
            assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]  # noqa: S108 - an emptyDir


def test_probes_point_at_the_health_endpoints(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _name, docs = rendered
    deployments = by_kind(docs, "Deployment")
    for name, args in (("dc-dayclose-consumer", ["run"]), ("dc-dayclose-api", ["api"])):
        (c,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        assert c["args"] == args
        assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_migrations_run_as_a_hook_after_the_hooked_configuration() -> None:
    docs = render(None)
    (job,) = by_kind(docs, "Job").values()
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    hooks = job["metadata"]["annotations"]
    assert hooks["helm.sh/hook"] == "pre-install,pre-upgrade"
    for obj in (by_kind(docs, "ConfigMap")["dc-dayclose-config"], by_kind(docs, "Secret")["dc-dayclose-secret"]):
        ann = obj["metadata"]["annotations"]
        assert "pre-install" in ann["helm.sh/hook"] and "pre-rollback" in ann["helm.sh/hook"]
        assert int(ann["helm.sh/hook-weight"]) < int(hooks["helm.sh/hook-weight"])
    off = render({"migrations": {"enabled": False}})
    assert by_kind(off, "Job") == {}
    assert "annotations" not in by_kind(off, "ConfigMap")["dc-dayclose-config"]["metadata"]


def test_keda_owns_the_consumer_replica_count_when_enabled() -> None:
    consumer = by_kind(render(PRODUCTION), "Deployment")["dc-dayclose-consumer"]
    assert "replicas" not in consumer["spec"]
    assert by_kind(render(None), "Deployment")["dc-dayclose-consumer"]["spec"]["replicas"] == 2


@pytest.mark.parametrize(
    "values",
    [
        {"consumer": {"replicas": 13}},
        {"consumer": {"keda": {"enabled": True, "maxReplicas": 13}}},
        {"consumer": {"replicas": 5}, "config": {"DAYCLOSE_CONSUMER_PROCESSES": "3"}},  # 15 processes, 12 partitions
        {"consumer": {"keda": {"enabled": True, "maxReplicas": 7}}, "config": {"DAYCLOSE_CONSUMER_PROCESSES": "2"}},
    ],
)
def test_consumer_processes_beyond_the_partition_count_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmRenderError, match="would sit idle"):
        render(values)


def test_keda_scales_on_the_sales_group_s_lag_per_consumer_process() -> None:
    """A pod of N consumer processes drains N times as fast: its lag threshold is N times one process's. The trigger
    watches the sales topic's group; commands have a group of their own, never a reason to scale."""
    values = merged(
        PRODUCTION, {"config": {"DAYCLOSE_CONSUMER_PROCESSES": "2"}, "consumer": {"keda": {"maxReplicas": 6}}}
    )
    docs = render(values)
    (trigger,) = by_kind(docs, "ScaledObject")["dc-dayclose-consumer"]["spec"]["triggers"]
    config = by_kind(docs, "ConfigMap")["dc-dayclose-config"]["data"]
    assert config["DAYCLOSE_CONSUMER_PROCESSES"] == "2"
    assert trigger["metadata"]["consumerGroup"] == config["DAYCLOSE_KAFKA_GROUP_ID"]
    assert trigger["metadata"]["topic"] == config["DAYCLOSE_SALES_TOPIC"]
    assert trigger["metadata"]["lagThreshold"] == "1000"  # 500 per process


@pytest.mark.parametrize(
    "values",
    [
        {"consumer": {"terminationGracePeriodSeconds": 50}, "config": {"DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": "50"}},
        {"api": {"terminationGracePeriodSeconds": 10}},
        {"config": {"DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": "90"}},
    ],
)
def test_pods_killed_before_their_own_shutdown_deadline_are_refused(values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmRenderError, match="must exceed config.DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS"):
        render(values)
    longer = {"config": {"DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS": "10"}, "api": {"terminationGracePeriodSeconds": 16}}
    assert (
        by_kind(render(longer), "Deployment")["dc-dayclose-api"]["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]
        == 16
    )


def test_config_changes_roll_the_pods() -> None:
    def checksum(values: dict[str, Any] | None) -> str:
        dep = by_kind(render(values), "Deployment")["dc-dayclose-consumer"]
        return str(dep["spec"]["template"]["metadata"]["annotations"]["checksum/config"])

    assert checksum(None) != checksum({"config": {"DAYCLOSE_EXPORT_WORKERS": "6"}})


# --- the test can fail: a broken copy of the chart ------------------------------------------------


@pytest.fixture
def broken_chart(tmp_path: Path) -> Path:
    copy = tmp_path / "dayclose"
    shutil.copytree(CHART, copy)
    return copy


def test_a_template_syntax_error_fails_render_and_lint(broken_chart: Path) -> None:
    path = broken_chart / "templates" / "services.yaml"
    path.write_text(path.read_text().replace("{{- end }}", "{{- end ", 1))
    with pytest.raises(helm.HelmError):
        render(None, broken_chart)
    assert helm.lint(broken_chart, MINIMAL, strict=True)["errors"]


def test_a_manifest_broken_for_kubernetes_fails_validation(broken_chart: Path) -> None:
    path = broken_chart / "templates" / "consumer-deployment.yaml"
    path.write_text(path.read_text().replace("containerPort:", "containerPorts:"))
    docs = render(None, broken_chart)
    consumer = by_kind(docs, "Deployment")["dc-dayclose-consumer"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(consumer, KUBE_VERSION, strict=True)


def test_invalid_yaml_output_fails_lint(broken_chart: Path) -> None:
    path = broken_chart / "templates" / "pdb.yaml"
    path.write_text(path.read_text().replace("  maxUnavailable:", "maxUnavailable:", 1))
    assert helm.lint(broken_chart, MINIMAL, strict=True)["errors"]
