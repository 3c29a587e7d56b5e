"""Dependencies: the service's calls to something else fail; the dependency's own pods say why."""

from __future__ import annotations

from bot.triage.quotes import container_line
from bot.triage.results import DEPENDENCY, failing_container
from bot.triage.rules.base import Diagnosis, Reader


def dependency(r: Reader) -> Diagnosis | None:
    dep = [x for x in r.logs if DEPENDENCY.search(x)]
    if not dep:
        return None
    sick = [f"{p['namespace']}/{p['name']} {container_line(c)}" for p in r.dependency
            for c in [*p.get("init_containers", []), *p.get("containers", [])] if failing_container(c)]
    named = f"the dependency ({sick[0].split(' ')[0]})" if sick else "the dependency the lines above name"
    return r.make("dependency-down", r.about(), dep[0], [*sick, *r.dependency_lines(), *dep[1:3]],
                  f"restore {named}; restarting or scaling this service does not help", False, "logs")
