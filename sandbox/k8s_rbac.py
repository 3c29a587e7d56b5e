"""RBAC as the API server applies it, for the emulator: which grant a request needs, and whether rules allow it.

A request is named the way RBAC names it: /apis/apps/v1/namespaces/shop/deployments/web/scale is (apps,
deployments/scale, get) in namespace shop; discovery (/version, /api, /apis) needs no rule. Rules are a
ClusterRole's (`apiGroups`, `resources`, `verbs`); a rule with `namespaces` stands for a Role bound in each of
those namespaces only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERBS = {"GET": "get", "PATCH": "patch", "DELETE": "delete", "POST": "create", "PUT": "update"}
SUBJECT = "system:serviceaccount:opsbot:opsbot"


@dataclass(frozen=True)
class Grant:
    group: str
    resource: str  # resource[/subresource]
    verb: str
    namespace: str | None  # None: cluster-scoped, or across every namespace


def grant(method: str, path: str) -> Grant | None:
    """What RBAC calls a request, or None for discovery."""
    parts = path.strip("/").split("/")
    if parts[0] == "api" and len(parts) > 2:
        group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) > 3:
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]  # a namespaced object; /namespaces/NAME is the Namespace kind itself
    resource, named, sub = rest[0], len(rest) > 1, rest[2:3]
    verb = "list" if method == "GET" and not named else VERBS.get(method, method.lower())
    return Grant(group, "/".join([resource, *sub]), verb, namespace)


def allows(rules: list[dict[str, Any]], g: Grant) -> bool:
    for rule in rules:
        scoped = rule.get("namespaces")
        if scoped is not None and g.namespace not in scoped:
            continue
        if g.group in rule["apiGroups"] and g.resource in rule["resources"] and g.verb in rule["verbs"]:
            return True
    return False


def forbidden(g: Grant) -> str:
    """The API server's own sentence for a refused request."""
    resource, _, sub = g.resource.partition("/")
    what = f'resource "{resource}"' + (f' in subresource "{sub}"' if sub else "")
    scope = f'in the namespace "{g.namespace}"' if g.namespace else "at the cluster scope"
    return f'{resource} is forbidden: User "{SUBJECT}" cannot {g.verb} {what} in API group "{g.group}" {scope}'
