"""Each cluster's own metrics and logs: cluster b names its own Prometheus, Alertmanager and log stores (a second
sandbox, loaded with another scenario); an alert from b is triaged against b's metrics and logs only, every metrics
and logs tool called for b reads b's servers, a read with no cluster reads the default's (the install's), and
`troubleshoot` runs on the cluster it is given and refuses one the settings do not name, listing those they do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.intake.webhooks.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.settings import Settings
from bot.triage.knowledge_hook import KnowledgeTriage
from bot.triage.triage import Triage
from bot.wiring import outcomes
from knowledge.store import KnowledgeStore
from sandbox.manager import Sandbox
from tests.support.alerting import wait_for
from tests.support.doors import make_door
from tests.support.second_cluster import second_cluster, two_clusters
from tests.support.serve_process import config_file
from tools.base import Status

# cluster a (the session sandbox): checkout crash-loops on a missing DATABASE_URL; cluster b: checkout answers 500s
# after release 1.6.0 ("payments client: 404 Not Found for /v2/authorize"), its 5xx series only in b's Prometheus
B_LINE = "/v2/authorize"
A_LINE = "DATABASE_URL"
FIVE_XX = 'sum(rate(http_requests_total{namespace="shop",service="checkout",status="500"}[5m]))'
LABELS = {"alertname": "HighErrorRate", "namespace": "shop", "service": "checkout", "severity": "critical",
          "cluster": "b"}
CALLER = Caller(identity="slack:U0OPERATOR", via="chat")


@pytest.fixture(scope="module")
def b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with second_cluster(tmp_path_factory.mktemp("cluster-b"), "bad-deploy-5xx") as sb:
        yield sb


@pytest.fixture
def clustered(settings: Settings, b: Sandbox) -> Settings:
    return two_clusters(settings, b)


def _url(sb: Sandbox, section: str) -> str:
    import yaml

    return str(yaml.safe_load(sb.settings_file.read_text())[section]["url"])


def _alert(door: Door) -> Alert:
    payload = AMPayload.model_validate(am_payload([am_alert(LABELS, {"summary": "checkout 5xx ratio above 5%"})]))
    return to_alert(payload.alerts[0], payload, lambda label: door.gate.engine.severity("alertmanager", label),
                    datetime.now(UTC))


def test_an_alert_from_b_is_triaged_against_bs_metrics_and_logs_only(clustered: Settings, b: Sandbox,
                                                                     knowledge: KnowledgeStore) -> None:
    door = make_door(clustered)
    kt = KnowledgeTriage(door, knowledge, outcomes(clustered, f"test:{uuid.uuid4().hex}:"))
    card = Triage(door, collect=kt.collect, playbook=kt.playbook).card(_alert(door), "inc-b-servers")
    evidence = " ".join(line.text for line in card.evidence)
    assert B_LINE in evidence, evidence  # b's log lines
    assert A_LINE not in evidence, evidence  # none of a's
    reads = [r for r in door.audit.query() if r.incident == "inc-b-servers" and r.kind == "tool_call"]
    metrics = [r for r in reads if r.action.startswith("prom_")]
    logs = [r for r in reads if r.action == "logs_search"]
    assert metrics and logs, [(r.action, r.summary) for r in reads]
    assert all(r.args.get("cluster") == "b" for r in metrics + logs), [(r.action, r.args) for r in metrics + logs]
    b_prometheus, a_prometheus = _url(b, "prometheus"), clustered.prometheus.url
    assert all(b_prometheus in r.summary and a_prometheus not in r.summary for r in metrics), \
        [r.summary for r in metrics]


def test_every_metrics_and_logs_tool_reads_the_servers_of_the_cluster_it_is_called_for(
        clustered: Settings, b: Sandbox) -> None:
    door = make_door(clustered)
    on_b = CALLER.model_copy(update={"cluster": "b"})
    series = door.run("prom_query", {"query": FIVE_XX}, on_b)
    assert series.status == Status.success and series.data["prometheus"] == _url(b, "prometheus"), series
    assert series.data["series"][0]["value"] > 1  # b's checkout answers 500s
    ranged = door.run("prom_query_range", {"query": FIVE_XX, "since": "30m"}, on_b)
    assert ranged.status == Status.success and ranged.data["prometheus"] == _url(b, "prometheus"), ranged
    found = door.run("logs_search", {"namespace": "shop", "service": "checkout", "level": "error"}, on_b)
    assert found.status == Status.success and B_LINE in found.data["by_message"][0]["message"], found
    # the default cluster (a) reads the install's servers, where none of b's series or lines are
    assert door.run("prom_query", {"query": FIVE_XX}, CALLER).status == Status.no_data
    on_a = door.run("logs_search", {"namespace": "shop", "service": "checkout", "level": "error"}, CALLER)
    assert on_a.status == Status.success and A_LINE in str(on_a.data["by_message"]), on_a
    assert B_LINE not in str(on_a.data), on_a
    # b's Alertmanager: b's rule fires there (HighErrorRate), not in a's
    firing = wait_for(lambda: (r := door.run("prom_alerts", {"alertname": "HighErrorRate"}, on_b)).status
                      == Status.success and r, 90, "HighErrorRate firing in b's Alertmanager")
    assert firing.data["source"] == f"Alertmanager {_url(b, 'alertmanager')}"
    assert door.run("prom_alerts", {"alertname": "HighErrorRate"}, CALLER).status == Status.no_data


def test_a_cluster_may_keep_its_logs_in_another_kind_of_store(settings: Settings, b: Sandbox) -> None:
    """b's logs in its Loki while a's are in Elasticsearch: the same question on b gets b's lines from Loki."""
    door = make_door(two_clusters(settings, b, logs={"backend": "loki"}))
    found = door.run("logs_search", {"namespace": "shop", "service": "checkout", "level": "error"},
                     CALLER.model_copy(update={"cluster": "b"}))
    assert found.status == Status.success and B_LINE in found.data["by_message"][0]["message"], found
    assert "elasticsearch" not in found.invocation.lower() and found.data.get("index") is None, found.data


def test_troubleshoot_on_b_reads_b_and_an_unknown_cluster_is_refused(
        sandbox: Sandbox, clustered: Settings, b: Sandbox, tmp_path) -> None:
    k8s = clustered.kubernetes
    named = {"clusters": {n: c.model_dump(mode="json", exclude_none=True) for n, c in k8s.clusters.items()},
             "default_cluster": "a"}
    config, _ = config_file(sandbox, tmp_path / "two.yaml", "test:clusters:", kubernetes=named)
    runner = CliRunner()
    on_b = runner.invoke(app, ["troubleshoot", "checkout", "-n", "shop", "--cluster", "b", "--config", str(config)])
    assert on_b.exit_code == 0, on_b.output
    assert B_LINE in on_b.output or "1.6.0" in on_b.output, on_b.output
    assert A_LINE not in on_b.output, on_b.output
    unknown = runner.invoke(app, ["troubleshoot", "checkout", "-n", "shop", "--cluster", "c", "--config", str(config)])
    assert unknown.exit_code != 0
    assert "no cluster 'c'; clusters: a, b" in unknown.output, unknown.output
