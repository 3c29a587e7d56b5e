"""A command loads only what it uses: `opsbot --help`, the commands an engineer types mid-incident and the
webhook path import neither LangChain, Chroma nor matplotlib (checked in a fresh interpreter's sys.modules,
not by a timing), and the one line `opsbot --help` lists for each command is the command's own."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import COMMANDS, load
from sandbox.manager import Sandbox

ROOT = Path(__file__).resolve().parents[2]
# and the clients of the log stores an install may not use, imported where their store is searched
HEAVY = ("langchain_core", "langchain_openai", "chromadb", "matplotlib", "onnxruntime", "opensearchpy")
PROBE = """
import contextlib, io, json, sys
from bot.cli.main import app
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        app(args=sys.argv[1:], prog_name="opsbot", standalone_mode=False)
    except SystemExit:
        pass
print(json.dumps({"help": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def _run(*args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=ROOT,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("args", [["--help"], ["tool", "--help"], ["action", "--help"], ["incident", "--help"],
                                  ["config", "--help"], ["policy", "--help"], ["audit", "--help"]])
def test_help_and_the_commands_typed_mid_incident_load_no_model_and_no_knowledge_store(args: list[str]) -> None:
    seen = _run(*args)
    assert "Usage: opsbot" in str(seen["help"])
    loaded = [m for m in seen["modules"] if m.split(".")[0] in HEAVY]  # type: ignore[union-attr]
    assert not loaded, f"opsbot {' '.join(args)} imported {sorted({m.split('.')[0] for m in loaded})}"


def test_the_webhook_path_loads_no_model_and_no_knowledge_store() -> None:
    probe = ("import json, sys, bot.intake.webhooks.alertmanager, bot.intake.webhooks.sentry, bot.http_input; "
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert not [m for m in json.loads(done.stdout) if m.split(".")[0] in HEAVY]


def test_the_top_level_help_lists_every_command_with_its_own_first_line() -> None:
    listed = " ".join(str(_run("--help")["help"]).split())
    for name, target, line in COMMANDS:
        own = " ".join((load(name, target).help or "").split())
        assert own.startswith(line), f"{name}: the listing says {line!r}, the command says {own!r}"
        assert name in listed


def test_building_the_backends_loads_no_log_store_client_until_logs_are_searched() -> None:
    """`opsbot action list` or `incident show` build the door to reach Redis: the Elasticsearch client
    (~0.3 s of imports) loads only when logs are searched, and neither the Kubernetes client nor any tool's
    module loads before a tool is run (the catalog knows every tool's name without importing it)."""
    probe = ("import json, sys; from bot.settings import Settings; from bot.wiring import build_door; "
             "door = build_door(Settings()); assert 'k8s_scale' in door.tools and len(door.tools) > 10; "
             "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = json.loads(done.stdout)
    assert not [m for m in loaded if m.split(".")[0] in ("elasticsearch", "elastic_transport")]
    assert not [m for m in loaded if m.split(".")[0] in ("kubernetes", "prometheus_api_client", "httpx")]
    assert [m for m in loaded if m.startswith("tools.")] == sorted(
        m for m in loaded if m in ("tools.base", "tools.cap", "tools.catalog", "tools.context", "tools.settings"))


# what `opsbot tool k8s_list` does not use: the generated API classes (every endpoint's method and every model
# they name: ~0.4 s), the other tools' modules, the clients of the backends it does not call, the card and
# playbook models
NOT_FOR_A_POD_LIST = ("kubernetes.client.api.core_v1_api", "kubernetes.client.api.apps_v1_api",
                      "kubernetes.client.models.v1_node", "tools.k8s_actions", "tools.k8s_describe",
                      "tools.metrics", "tools.logs", "prometheus_api_client", "httpx", "dateparser",
                      "bot.cards.model", "knowledge.playbooks")


def test_a_read_tool_loads_its_own_tool_and_the_models_of_its_answer_only(sandbox: Sandbox) -> None:
    seen = _run("tool", "k8s_list", "--config", str(sandbox.settings_file), "--namespace", "shop")
    assert "CrashLoopBackOff" in str(seen["help"])  # the pods were listed
    loaded = set(seen["modules"])  # type: ignore[arg-type]
    assert {"tools.k8s_list", "kubernetes.client.models.v1_pod_list"} <= loaded
    assert not loaded & set(NOT_FOR_A_POD_LIST), sorted(loaded & set(NOT_FOR_A_POD_LIST))


def test_listing_pending_actions_loads_no_kubernetes_client_and_no_tool(sandbox: Sandbox) -> None:
    seen = _run("action", "list", "--config", str(sandbox.settings_file))
    assert "no pending actions" in str(seen["help"]) or "#" in str(seen["help"])
    loaded = seen["modules"]
    assert not [m for m in loaded if m.split(".")[0] == "kubernetes"]  # type: ignore[union-attr]
    assert not {"tools.k8s_actions", "knowledge.playbooks"} & set(loaded)  # type: ignore[arg-type]
