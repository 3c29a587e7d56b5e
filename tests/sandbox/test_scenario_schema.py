"""The scenario format is a public contract: shipped scenarios are valid, mistakes are named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.guard.door import Caller
from bot.settings import load_settings
from sandbox import procs, scenario
from sandbox.manager import SERVICES, Ports, Sandbox, for_scenario
from tests.support.doors import make_door
from tools.base import Status

MINIMAL = """
name: tiny
title: a tiny cluster
cluster:
  namespaces: [shop]
  deployments:
    - name: web
      namespace: shop
      revisions: [{image: web:1}]
"""


@pytest.mark.parametrize("name", scenario.shipped())
def test_shipped_scenarios_are_valid_and_complete(name: str) -> None:
    sc = scenario.load(name)
    assert sc.name == name
    assert sc.alerts or sc.sentry, "every shipped scenario fires an alert or delivers a Sentry event"
    assert sc.expect.evidence and sc.expect.playbook, "every shipped scenario says what a good triage finds"
    assert len(sc.alerts) + len(sc.sentry) == 1, "one alert rule or one event: one card to score"


def test_at_least_three_realistic_scenarios_ship() -> None:
    assert {"crashloop-missing-env", "oom-memory-leak", "bad-deploy-5xx"} <= set(scenario.shipped())


def test_minimal_scenario_gets_defaults() -> None:
    sc = scenario.parse(MINIMAL)
    web = sc.cluster.deployments[0]
    assert web.replicas == 1 and web.revisions[0].pods.phase == "Running"
    assert sc.logs.documents == [] and sc.metrics.series == []


def test_unknown_key_is_rejected_with_its_path_and_line() -> None:
    bad = MINIMAL.replace("      revisions:", "      replica: 3\n      revisions:")
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.parse(bad, "bad.yaml")
    assert "bad.yaml" in str(e.value)
    assert "bad.yaml:9: cluster.deployments.0.replica: unknown key" in str(e.value)


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (("web:1}]", "web:1, created: yesterday}]"), "revisions.0.created"),
        (("namespace: shop", "namespace: Shop_1"), "deployments.0.namespace"),
        (("namespaces: [shop]", "namespaces: [other]"), "not listed in namespaces"),
        (("revisions: [{image: web:1}]", "revisions: []"), "revisions"),
        (("      revisions: [{image: web:1}]", "      revisions: [{image: web:1}]\n  objects: [{kind: ConfigMap, "
          "metadata: {name: c, namespace: shop}, modified: yesterday}]"), "objects[0].modified: 'yesterday' is not "
         "an offset"),
        (("      revisions: [{image: web:1}]", "      revisions: [{image: web:1}]\n  objects: [{kind: ConfigMap, "
          "metadata: {name: c, namespace: shop}, modifed: -5m}]"), "objects[0].modifed: unknown key"),
    ],
)
def test_invalid_values_are_explained(mutation: tuple[str, str], expected: str) -> None:
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.parse(MINIMAL.replace(*mutation))
    assert expected in str(e.value)


def test_bad_generator_and_label_name() -> None:
    text = MINIMAL + """
metrics:
  series:
    - name: m
      labels: {__name__: x}
      signal: [{sawtooth: 1}]
"""
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.parse(text)
    message = str(e.value)
    assert "not a valid Prometheus label name" in message
    assert "metrics.series.0.signal.0" in message


def test_not_yaml_and_not_a_mapping() -> None:
    with pytest.raises(scenario.ScenarioError, match="not valid YAML"):
        scenario.parse("name: [unclosed")
    with pytest.raises(scenario.ScenarioError, match="scenario is a mapping"):
        scenario.parse("- just a list")


def test_unknown_scenario_name_lists_the_shipped_ones() -> None:
    with pytest.raises(scenario.ScenarioError, match="crashloop-missing-env"):
        scenario.load("no-such-scenario")


def _with_cluster(extra: str) -> str:
    return MINIMAL + extra


@pytest.mark.parametrize(("extra", "said"), [
    ("""  workloads:
    - kind: Pod
      name: p
      namespace: shop
      spec: {containers: [{name: c, image: x}], nodeSelctor: {pool: gpu}}
""", "Pod/p.spec.nodeSelctor: unknown key for PodSpec (did you mean nodeSelector?)"),
    ("""  workloads:
    - {kind: Job, name: j, namespace: shop, spec: {backoffLimit: 1}}
""", "Job j: spec needs a pod template (template)"),
    ("""  workloads:
    - kind: Pod
      name: p
      namespace: shop
      spec: {containers: [{image: x}]}
""", "Pod/p.spec.containers[0].name: required"),
    ("""  objects:
    - {kind: Deployment, metadata: {name: d, namespace: shop}}
""", "kind 'Deployment' is not one of"),
    ("""  objects:
    - {kind: Job, metadata: {name: d, namespace: shop}}
""", "(write it under workloads:)"),
    ("""  objects:
    - {kind: StorageClass, metadata: {name: fast, namespace: shop}, provisioner: x}
""", "StorageClass fast is cluster-scoped: drop metadata.namespace"),
    ("""  objects:
    - {kind: ConfigMap, metadata: {name: c, namespace: elsewhere}}
""", "'c' is in namespace 'elsewhere', not listed in namespaces"),
    ("""  objects:
    - {apiVersion: v1, kind: Service, metadata: {name: s, namespace: shop}, spec: {ports: [{port: eighty}]}}
""", "objects[0].spec.ports[0].port: expected int, got str"),
    ("""  events:
    - {kind: Widget, name: w, namespace: shop, reason: R, message: m}
""", "kind 'Widget' is not one of"),
])
def test_new_cluster_keys_are_checked_against_the_kubernetes_models(extra: str, said: str) -> None:
    with pytest.raises(scenario.ScenarioError) as e:
        scenario.parse(_with_cluster(extra))
    assert said in str(e.value)


def test_quantities_written_as_numbers_are_served_as_the_strings_the_api_returns() -> None:
    sc = scenario.parse(_with_cluster("""  workloads:
    - kind: Pod
      name: p
      namespace: shop
      spec: {containers: [{name: c, image: x, resources: {limits: {cpu: 2, nvidia.com/gpu: 1}}}]}
"""))
    assert sc.cluster.workloads[0].spec["containers"][0]["resources"]["limits"] == {"cpu": "2", "nvidia.com/gpu": "1"}


def test_a_pinned_clock_needs_a_zone_and_backends_can_be_marked_unreachable() -> None:
    sc = scenario.parse(MINIMAL + 'clock: {now: "2026-03-14T09:26:00Z"}\nunreachable: [elasticsearch]\n')
    assert sc.t0(0.0) == 1773480360.0 and sc.unreachable == ["elasticsearch"]
    with pytest.raises(scenario.ScenarioError, match="timezone"):
        scenario.parse(MINIMAL + 'clock: {now: "2026-03-14T09:26:00"}\n')
    with pytest.raises(scenario.ScenarioError, match="unreachable"):
        scenario.parse(MINIMAL + "unreachable: [redis]\n")


@pytest.mark.parametrize(("backend", "tool", "args"), [
    ("elasticsearch", "logs_search", {"service": "web"}),
    ("kubernetes", "k8s_list", {"namespace": "shop"}),
    ("prometheus", "prom_query", {"query": "up"}),
])
def test_a_backend_marked_unreachable_gives_the_honest_could_not_check(
    tmp_path: Path, backend: str, tool: str, args: dict
) -> None:
    sc = scenario.parse(MINIMAL + f"unreachable: [{backend}]\n")
    base = Sandbox(tmp_path)._settings(Ports(**{name: procs.free_port() for name in SERVICES}))
    settings_file = tmp_path / "opsbot.yaml"
    settings_file.write_text(yaml.safe_dump(for_scenario(base, sc, tmp_path)))
    r = make_door(load_settings(settings_file)).run(tool, args, Caller(identity="cli:test"))
    assert r.status == Status.error
    assert r.error.startswith(f"could not reach {backend} at http://127.0.0.1:9") and "refused" in r.error
