"""docs/scenarios.md documents every key of the scenario format: a key the format gains without a word in
the docs fails here, named with the model that holds it."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from sandbox import scenario, scenario_cluster

DOC = (Path(__file__).resolve().parent.parent.parent / "docs" / "scenarios.md").read_text()


def _models() -> list[type[BaseModel]]:
    found = []
    for module in (scenario, scenario_cluster):
        found += [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, BaseModel)
                  and v.__module__ == module.__name__ and v.model_fields]
    return found


def test_every_key_of_every_scenario_model_is_in_the_docs() -> None:
    missing = []
    for model in _models():
        for name, field in model.model_fields.items():
            key = field.alias or name
            if not re.search(rf"(`{key}`|\b{key}:|[{{,] ?{key}[,}}])", DOC):
                missing.append(f"{model.__name__}.{key}")
    assert not missing, f"not documented in docs/scenarios.md: {', '.join(missing)}"


def test_the_every_kind_example_in_the_tests_is_a_valid_scenario() -> None:
    loaded = scenario.load(str(Path(__file__).parent / "data" / "every-kind.yaml"))
    kinds = {w.kind for w in loaded.cluster.workloads} | {o["kind"] for o in loaded.cluster.objects}
    assert kinds >= {"Pod", "Job", "CronJob", "StatefulSet", "DaemonSet", "Service", "ConfigMap", "Secret",
                     "NetworkPolicy", "StorageClass", "PersistentVolumeClaim", "HorizontalPodAutoscaler"}


def test_every_shipped_scenario_is_in_the_docs_table() -> None:
    table = DOC.split("## Shipped scenarios")[1]
    missing = [name for name in scenario.shipped() if f"| `{name}` |" not in table]
    assert not missing, f"add to the table in docs/scenarios.md: {', '.join(missing)}"
