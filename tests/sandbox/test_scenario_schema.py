"""The scenario format is a public contract: shipped scenarios are valid, mistakes are named precisely."""

from __future__ import annotations

import pytest

from sandbox import scenario

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
    assert sc.alerts, "every shipped scenario fires an alert"
    assert sc.expect.evidence and sc.expect.actions, "every shipped scenario says what a good triage finds"


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
