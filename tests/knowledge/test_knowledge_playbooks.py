"""Playbook files: strict front matter with file:line errors, tool calls checked against the real tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import KnowledgeSettings
from knowledge.playbooks import load_dir, parse
from policies.yamlfile import FileError
from sandbox import scenario
from tools.catalog import all_tools

TOOLS = {t.name: t for t in all_tools()}
SHIPPED = KnowledgeSettings().playbooks_dir
REQUIRED = {"crashloopbackoff", "oomkilled", "imagepullbackoff", "unschedulable-pods", "failed-rollout",
            "http-5xx-spike", "latency-regression", "node-pressure"}

GOOD = """---
name: demo
title: A demo playbook
alerts: [DemoAlert]
diagnosis:
  - {tool: k8s_list, args: {namespace: "{namespace}"}}
remediation:
  - {tool: k8s_rollout_restart, args: {namespace: "{namespace}", deployment: "{deployment}"}, when: "always"}
recommended: k8s_rollout_restart
---
Body text.
"""


def write(tmp_path: Path, text: str, name: str = "demo.md") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_every_shipped_playbook_is_valid_and_uses_real_tools() -> None:
    playbooks = load_dir(SHIPPED, TOOLS)
    names = {p.name for p in playbooks}
    assert REQUIRED <= names
    for pb in playbooks:
        assert pb.body, f"{pb.name} has no runbook text"
        assert pb.diagnosis and all(not TOOLS[s.tool].mutates for s in pb.diagnosis)
        assert all(TOOLS[a.tool].mutates for a in pb.remediation)


def test_each_scenario_expects_a_shipped_playbook() -> None:
    names = {p.name for p in load_dir(SHIPPED)}
    for name in scenario.shipped():
        assert scenario.load(name).expect.playbook in names


def test_a_valid_file_parses_with_its_body(tmp_path: Path) -> None:
    pb = load_dir(write(tmp_path, GOOD).parent, TOOLS)[0]
    assert (pb.name, pb.body, pb.recommended) == ("demo", "Body text.", "k8s_rollout_restart")


def test_an_unknown_key_is_named_with_its_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("alerts: [DemoAlert]\n", "alerts: [DemoAlert]\ncolour: red\n"))
    with pytest.raises(FileError) as e:
        parse(path.read_text(), str(path))
    assert f"{path}:5: colour: unknown key" in str(e.value)


def test_an_unknown_key_in_a_step_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('args: {namespace: "{namespace}"}}', 'args: {}, timeout: 3}'))
    with pytest.raises(FileError, match=rf"{path}:6: diagnosis.0.timeout: unknown key"):
        parse(path.read_text(), str(path))


@pytest.mark.parametrize(("change", "reason"), [
    (("recommended: k8s_rollout_restart", "recommended: k8s_scale"), "is not one of the remediation tools"),
    (('"{namespace}"}}\nremediation', '"{cluster}"}}\nremediation'), "unknown placeholder {cluster}"),
    (("name: demo", "name: Demo Book"), "name: String should match pattern"),
    (("diagnosis:\n  - {tool: k8s_list, args: {namespace: \"{namespace}\"}}\n", "diagnosis: []\n"),
     "diagnosis: List should have at least 1 item"),
])
def test_schema_errors_say_what_is_wrong(tmp_path: Path, change: tuple[str, str], reason: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(FileError, match=reason):
        parse(path.read_text(), str(path))


@pytest.mark.parametrize(("change", "reason"), [
    (("tool: k8s_list", "tool: kubectl_exec"), "diagnosis.0: no tool 'kubectl_exec'"),
    (('args: {namespace: "{namespace}"}}', 'args: {namespace: "{namespace}", tail: 5}}'),
     "diagnosis.0: k8s_list: tail: Extra inputs are not permitted"),
    (("tool: k8s_list, args: {namespace: \"{namespace}\"}",
      "tool: k8s_scale, args: {namespace: \"{namespace}\", deployment: x, replicas: 2}"),
     "diagnosis.0: k8s_scale changes the cluster"),
])
def test_steps_are_checked_against_the_tools(tmp_path: Path, change: tuple[str, str], reason: str) -> None:
    write(tmp_path, GOOD.replace(*change))
    with pytest.raises(FileError, match=reason):
        load_dir(tmp_path, TOOLS)


def test_front_matter_must_open_and_close(tmp_path: Path) -> None:
    with pytest.raises(FileError, match="starts with '---'"):
        parse("name: x\n", "x.md")
    with pytest.raises(FileError, match="not closed"):
        parse("---\nname: x\n", "x.md")


def test_two_playbooks_with_one_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.md")
    write(tmp_path, GOOD, "b.md")
    with pytest.raises(FileError, match="also used by"):
        load_dir(tmp_path)


def test_placeholders_fill_and_promql_braces_stay() -> None:
    pb = next(p for p in load_dir(SHIPPED) if p.name == "oomkilled")
    step = next(s for s in pb.diagnosis if s.tool == "prom_query_range")
    args = step.fill({"namespace": "payments", "deployment": "payments-api"})
    assert args["query"] == ('max by (pod) (container_memory_working_set_bytes{namespace="payments",'
                             'pod=~"payments-api.*"})')
