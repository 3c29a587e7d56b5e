"""The tool catalog knows every tool by name without importing the tools' modules, and a lookup loads that
tool's module only."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import import_module
from pathlib import Path

from tools.catalog import MODULES, Catalog, all_tools

ROOT = Path(__file__).resolve().parents[2]


def test_the_catalog_names_exactly_the_tools_each_module_declares_in_order() -> None:
    for module, names in MODULES.items():
        assert tuple(t.name for t in import_module(f"tools.{module}").TOOLS) == names, module
    assert [t.name for t in all_tools()] == [n for names in MODULES.values() for n in names]
    assert [t for t in Catalog().values()] == all_tools()


def test_looking_a_tool_up_loads_its_module_only() -> None:
    probe = ("import json, sys; from tools.catalog import Catalog; c = Catalog(); names = sorted(c); "
             "before = sorted(m for m in sys.modules if m.startswith('tools.k8s_') or m == 'tools.metrics'); "
             "t = c['k8s_list']; "
             "print(json.dumps([names, before, t.name, t.mutates, c.get('nothing'), "
             "sorted(m for m in sys.modules if m in ('tools.k8s_actions', 'tools.metrics', 'tools.logs'))]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    names, before, name, mutates, missing, others = json.loads(done.stdout)
    assert "k8s_scale" in names and "prom_query" in names
    assert before == [] and others == []
    assert (name, mutates, missing) == ("k8s_list", False, None)


def test_another_servers_tool_joins_and_wins_over_a_built_in_of_its_name_as_in_a_dict() -> None:
    k8s_list, prom = Catalog()["k8s_list"], Catalog()["prom_query"]
    mine = type(k8s_list)("k8s_list", "another server's", k8s_list.args, k8s_list.fn, "mcp")
    joined = Catalog([mine, type(prom)("srv_x", "x", prom.args, prom.fn, "mcp")])
    assert joined["k8s_list"] is mine and joined["srv_x"].name == "srv_x"
    assert list(joined) == list(dict.fromkeys([*Catalog(), "srv_x"])) and len(joined) == len(Catalog()) + 1
