"""Each cluster's own metrics and logs: cluster b names its own Prometheus, Alertmanager and log stores (a second
sandbox, loaded with another scenario); an alert from b is triaged against b's metrics and logs only, every metrics
and logs tool called for b reads b's servers, a read with no cluster reads the default's (the install's), and
`troubleshoot` runs on the cluster it is given and refuses one the settings do not name, listing those they do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from bot.cards import strings as S
from bot.chat.agent import Agent
from bot.chat.conversation import Conversation
from bot.cli.main import app
from bot.config.check import check
from bot.guard.door import Caller, Door
from bot.intake.alert import Alert
from bot.intake.payloads.alertmanager import AMPayload, to_alert
from bot.intake.webhooks.synthetic import am_alert, am_payload
from bot.settings import Settings
from bot.triage.graph import AlertGraph
from bot.triage.knowledge_hook import KnowledgeTriage
from bot.triage.triage import Triage
from bot.wiring import outcomes
from knowledge.store import KnowledgeStore
from sandbox.manager import Sandbox
from tests.mcp.test_mcp_server import _stdio, _text
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
        sandbox: Sandbox, clustered: Settings, b: Sandbox, tmp_path: Path) -> None:
    config = _config(sandbox, tmp_path / "two.yaml", _two(clustered))
    runner = CliRunner()
    on_b = runner.invoke(app, ["troubleshoot", "checkout", "-n", "shop", "--cluster", "b", "--config", str(config)])
    assert on_b.exit_code == 0, on_b.output
    assert B_LINE in on_b.output and "registry.local/shop/checkout:1.6.0" in on_b.output, on_b.output  # b's
    assert A_LINE not in on_b.output and "CrashLoopBackOff" not in on_b.output, on_b.output  # none of a's
    unknown = runner.invoke(app, ["troubleshoot", "checkout", "-n", "shop", "--cluster", "c", "--config", str(config)])
    assert unknown.exit_code != 0
    assert "no cluster 'c'; clusters: a, b" in unknown.output, unknown.output


def _config(sandbox: Sandbox, path: Path, kubernetes: dict[str, Any]) -> Path:
    """The session sandbox's settings with `kubernetes`, its own Redis prefix, an MCP stdio identity."""
    return config_file(sandbox, path, f"test:{uuid.uuid4().hex}:", kubernetes=kubernetes,
                       mcp={"identity": "slack:U0OPERATOR"})[0]


def _two(clustered: Settings) -> dict[str, Any]:
    k8s = clustered.kubernetes
    return {"clusters": {n: c.model_dump(mode="json", exclude_none=True) for n, c in k8s.clusters.items()},
            "default_cluster": "a"}


async def test_over_mcp_cluster_is_an_argument_only_with_several_clusters_and_troubleshoot_runs_there(
        sandbox: Sandbox, settings: Settings, clustered: Settings, tmp_path: Path) -> None:
    one = _config(sandbox, tmp_path / "one.yaml", {"kubeconfig": str(settings.kubernetes.kubeconfig)})
    async with _stdio(one) as client:
        tools = (await client.list_tools()).tools
        assert not [t.name for t in tools if "cluster" in t.input_schema.get("properties", {})]
    two = _config(sandbox, tmp_path / "two.yaml", _two(clustered))
    async with _stdio(two) as client:
        tools = {t.name: t.input_schema.get("properties", {}) for t in (await client.list_tools()).tools}
        for name in ("k8s_list", "k8s_rollout_restart", "prom_query", "logs_search", "troubleshoot"):
            assert "cluster" in tools[name], (name, tools[name])
        on_b = await client.call_tool("troubleshoot", {"namespace": "shop", "service": "checkout", "cluster": "b"})
        assert not on_b.is_error, _text(on_b)
        assert B_LINE in _text(on_b) and A_LINE not in _text(on_b), _text(on_b)
        on_a = await client.call_tool("troubleshoot", {"namespace": "shop", "service": "checkout"})
        assert A_LINE in _text(on_a) and B_LINE not in _text(on_a), _text(on_a)
        unknown = await client.call_tool("troubleshoot", {"namespace": "shop", "service": "checkout", "cluster": "c"})
        assert unknown.is_error and "no cluster 'c'; clusters: a, b" in _text(unknown), _text(unknown)


def test_config_check_tries_the_servers_each_cluster_names_for_itself(settings: Settings, clustered: Settings,
                                                                      b: Sandbox, dead_url: str) -> None:
    found = {f.what: f.level for f in check(clustered)}
    assert {k: found.get(k) for k in ("prometheus b", "alertmanager b", "elasticsearch b")} == dict.fromkeys(
        ("prometheus b", "alertmanager b", "elasticsearch b"), "ok"), found
    assert not [k for k in found if k.endswith(" a") and not k.startswith("kubernetes")], found  # a's: the install's
    down = {f.what: f.level for f in check(two_clusters(settings, b, prometheus={"url": dead_url}))}
    assert down["prometheus b"] == "fail" and down["prometheus"] == "ok", down


def test_troubleshoot_in_chat_takes_a_cluster(clustered: Settings) -> None:
    from bot.chat.troubleshoot import troubleshooter

    door = make_door(clustered)
    chat = Conversation(door, Agent(clustered, door), ["shop"], troubleshooter(door, ["shop"]))
    on_b = chat.command("troubleshoot shop/checkout --cluster b", "t-b", "slack:U0OPERATOR")
    assert B_LINE in on_b.text and A_LINE not in on_b.text, on_b.text
    unknown = chat.command("troubleshoot checkout --cluster c", "t-c", "slack:U0OPERATOR")
    assert unknown.private and unknown.text == "no cluster 'c'; clusters: a, b", unknown.text


def test_the_graph_of_an_alert_from_b_is_drawn_from_bs_prometheus(clustered: Settings) -> None:
    door = make_door(clustered)
    kept: dict[str, bytes] = {}
    alert = _alert(door).model_copy(update={"expr": f"{FIVE_XX} > 0.05"})  # its series are in b's Prometheus only
    assert AlertGraph(door, kept.__setitem__)(alert, "inc-b-graph") is None
    assert kept["inc-b-graph"].startswith(b"\x89PNG")
    unknown = alert.model_copy(update={"labels": {**alert.labels, "cluster": "c"}})
    assert AlertGraph(door, kept.__setitem__)(unknown, "inc-c-graph") == S.GRAPH_NO_CLUSTER.format(
        why="no cluster 'c'; clusters: a, b")
