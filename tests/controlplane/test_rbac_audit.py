"""deploy/kubernetes' ClusterRole and its opt-in Secret Role grant exactly the API calls opsbot's tools make, as
the real API server's RBAC authorizer answered them: every read tool runs on objects of every kind, and every
mutating tool is proposed (its preview reads) and approved (its execution), through the door as opsbot's
ServiceAccount; the API server's audit log (sandbox/controlplane.py: opsbot's requests, level Metadata) says which
(apiGroup, resource[/subresource], verb) each call was and what RBAC answered. Nothing the tools call is refused
but Secrets where the opt-in is not applied, and the roles grant nothing that no tool calls."""

from __future__ import annotations

import ssl
import uuid
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.guard.door import Caller, Door
from bot.settings import Settings
from sandbox import controlplane
from sandbox.controlplane import ControlPlane
from sandbox.k8s_copy import dynamic
from sandbox.k8s_identity import apply
from sandbox.k8s_rbac import SUBJECT
from tests.controlplane.conftest import Twins
from tests.deploy.test_rbac import RBAC, SECRETS, rules
from tests.support.alerting import wait_for
from tests.support.doors import OPERATOR, make_door
from tools.base import Status
from tools.k8s_kinds import KINDS

WHO = Caller(identity="cli:rbac-audit")
Rule = tuple[str, str, str]  # (apiGroup, resource[/subresource], verb), as RBAC and the audit log name a call
OPTED_IN = "batch"  # the every-kind namespace whose Secret (db-credentials) the opt-in Role lets opsbot read
SECRET_ROLE = "opsbot-secret-metadata"
APPROVERS = ("slack:U0LEAD", "slack:U0ADMIN")  # sandbox/policy.yaml's on-call lead and admin


def allowed(role: list[dict]) -> set[Rule]:
    return {(g, r, v) for rule in role for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def called(event: dict[str, Any]) -> Rule:
    ref = event["objectRef"]
    resource = "/".join(filter(None, (ref["resource"], ref.get("subresource"))))
    return ref.get("apiGroup", ""), resource, event["verb"]


def _audited_until_now(cp: ControlPlane, kubeconfig: Path) -> list[dict[str, Any]]:
    """The audit log up to and with a request of opsbot's own that names itself (each event is written as its
    request is answered, so every call before it is there once it is)."""
    mark = f"/version?audit-mark={uuid.uuid4().hex}"
    token = yaml.safe_load(kubeconfig.read_text())["users"][0]["user"]["token"]
    trust = ssl.create_default_context(cafile=str(cp.ca_file))
    httpx.get(cp.url + mark, headers={"Authorization": f"Bearer {token}"}, verify=trust).raise_for_status()

    def upto_mark() -> list[dict[str, Any]] | None:
        events = controlplane.audit_events(cp.state_dir)
        at = next((i for i, e in enumerate(events) if e["requestURI"] == mark), None)
        return None if at is None else events[:at + 1]

    return wait_for(upto_mark, 10, f"the audit event of GET {mark}")


def _read_everything(door: Door) -> None:
    for kind, info in KINDS.items():
        for scope in ([{"namespace": "shop"}, {"namespace": OPTED_IN}, {}] if info.namespaced else [{}]):
            listed = door.run("k8s_list", {"kind": kind, **scope}, WHO)
            rows = (listed.data or {}).get("pods" if kind == "Pod" else "items", [])
            for row in rows[:1]:
                ns = {"namespace": row.get("namespace", scope.get("namespace"))} if info.namespaced else {}
                door.run("k8s_describe", {"kind": kind, "name": row["name"], **ns}, WHO)
    door.run("k8s_list", {"namespace": "shop", "deployment": "web"}, WHO)
    door.run("k8s_events", {"namespace": "shop"}, WHO)
    door.run("k8s_events", {"namespace": "shop", "kind": "Deployment", "object_name": "web"}, WHO)
    door.run("k8s_pod_logs", {"namespace": "shop", "pod": "web"}, WHO)
    door.run("k8s_pod_logs", {"namespace": "batch", "pod": "db-migrate", "previous": True}, WHO)
    for scope in ({"namespace": "shop"}, {}):  # every kind of object, one namespace's and every namespace's
        changed = door.run("k8s_changes", {**scope, "since": "30d"}, WHO)
        assert changed.status in (Status.success, Status.no_data), changed.error


def _mutate_everything(settings: Settings) -> None:
    """Each mutation proposed (its preview reads), then approved and run as an approved action runs; each by a
    door of its own (the policy's cooldown would hold a second change to checkout)."""
    pods = make_door(settings).run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, WHO).data["pods"]
    for tool, args in [("k8s_scale", {"namespace": "shop", "deployment": "checkout", "replicas": 4}),
                       ("k8s_rollback", {"namespace": "shop", "deployment": "checkout"}),
                       ("k8s_rollout_restart", {"namespace": "shop", "deployment": "checkout"}),
                       ("k8s_delete_pod", {"namespace": "shop", "pod": pods[0]["name"]})]:
        door = make_door(settings)
        asked = door.run(tool, args, OPERATOR)
        assert asked.status == Status.approval_required, f"{tool}: {asked.error}"
        for approver in APPROVERS:  # a rollback needs both
            done = door.gate.decide(asked.data["action_id"], approver, approve=True)
            if done.result is not None:
                break
        assert done.ok and done.message.startswith("done"), f"{tool}: {done.message}"


def test_the_real_authorizer_allows_every_call_the_tools_make_and_the_roles_grant_no_other(
        every_kind_twins: Twins, controlplane: ControlPlane) -> None:
    twins, admin = every_kind_twins, dynamic(controlplane.admin_kubeconfig)
    kubeconfig = twins.real.kubernetes.kubeconfig
    apply(admin, SECRETS, OPTED_IN)
    try:
        before = len(_audited_until_now(controlplane, kubeconfig))
        _read_everything(make_door(twins.real))
        twins.reload()  # crashloop-missing-env: checkout has two revisions to roll back between
        twins.changed = True
        _mutate_everything(twins.real)
        events = _audited_until_now(controlplane, kubeconfig)[before:-1]
    finally:
        for kind in ("RoleBinding", "Role"):
            admin.resources.get(api_version="rbac.authorization.k8s.io/v1", kind=kind).delete(
                name=SECRET_ROLE, namespace=OPTED_IN)
    assert events and {e["user"]["username"] for e in events} == {SUBJECT}
    refused = [e for e in events if e["responseStatus"]["code"] == 403]
    # the one refusal by design: listing Secrets where the opt-in Role is not applied (every namespace but batch,
    # one by one or all at once); the tools say "not readable with opsbot's RBAC" there (test_rbac_enforced.py)
    unexpected = [e["requestURI"] for e in refused if "objectRef" not in e or e["objectRef"]["resource"] != "secrets"
                  or e["objectRef"].get("namespace") == OPTED_IN]
    assert not unexpected, f"the API server refused calls the tools make: {unexpected}"
    calls = {called(e) for e in events if "objectRef" in e and e["responseStatus"]["code"] != 403}
    base, secrets = allowed(rules(RBAC, "ClusterRole")), allowed(rules(SECRETS, "Role"))
    assert not calls - base - secrets, \
        f"allowed only by the API server's default roles: {sorted(calls - base - secrets)}"
    assert not (base | secrets) - calls, f"the roles grant what no tool calls: {sorted((base | secrets) - calls)}"
    assert {r for _, r, _ in secrets} == {"secrets"} and not {r for _, r, _ in base} & {"secrets"}, \
        "the ClusterRole reads no Secret; the opt-in Role reads Secrets only"
