"""deploy/kubernetes' ClusterRole, bound to opsbot's ServiceAccount, enforced by the real API server's RBAC
authorizer: opsbot's read and mutating tools work through the door with that identity, and the API server
refuses (403) what opsbot must not do; Secrets are readable only where the opt-in Role is applied."""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from bot.guard.door import Caller
from sandbox.controlplane import ControlPlane
from sandbox.k8s_copy import dynamic
from sandbox.k8s_identity import DEPLOY, apply
from sandbox.k8s_rbac import SUBJECT
from tests.controlplane.conftest import Twins
from tests.support.doors import OPERATOR, make_door
from tools.base import Status
from tools.k8s_api import NOT_READABLE

WHO = Caller(identity="cli:controlplane-test")


def _apis(twins: Twins) -> tuple[client.CoreV1Api, client.AppsV1Api]:
    api = config.new_client_from_config(str(twins.real.kubernetes.kubeconfig))
    return client.CoreV1Api(api), client.AppsV1Api(api)


def test_opsbot_reads_the_cluster_with_its_service_account(twins: Twins) -> None:
    door = make_door(twins.real)
    pods = door.run("k8s_list", {"namespace": "shop", "deployment": "checkout"}, WHO)
    assert pods.status == Status.success, pods.error
    assert [p["status"] for p in pods.data["pods"]] == ["CrashLoopBackOff"] * 3
    described = door.run("k8s_describe", {"kind": "Deployment", "name": "checkout", "namespace": "shop"}, WHO)
    assert described.status == Status.success, described.error
    assert [r["revision"] for r in described.data["revisions"]] == [1, 2]
    events = door.run("k8s_events", {"namespace": "shop"}, WHO)
    assert events.status == Status.success and events.data, events.error


def test_an_approved_scale_runs_under_opsbots_role(changed_twins: Twins) -> None:
    door = make_door(changed_twins.real)
    asked = door.run("k8s_scale", {"namespace": "shop", "deployment": "cart", "replicas": 3}, OPERATOR)
    assert asked.status == Status.approval_required, asked.error
    done = door.gate.decide(asked.data["action_id"], "slack:U0LEAD", approve=True)
    assert done.ok, done.message
    _, apps = _apis(changed_twins)
    assert apps.read_namespaced_deployment("cart", "shop").spec.replicas == 3


FORBIDDEN: dict[str, Callable[[client.CoreV1Api, client.AppsV1Api], Any]] = {
    "read a Secret's data": lambda core, _: core.read_namespaced_secret("db-credentials", "sealed"),
    "list Secrets": lambda core, _: core.list_namespaced_secret("shop"),
    "delete a Deployment": lambda _, apps: apps.delete_namespaced_deployment("checkout", "shop"),
    "create a Pod": lambda core, _: core.create_namespaced_pod("shop", {
        "metadata": {"name": "intruder"}, "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    "update a Deployment": lambda _, apps: apps.replace_namespaced_deployment(
        "checkout", "shop", apps.read_namespaced_deployment("checkout", "shop")),
    "delete a Namespace": lambda core, _: core.delete_namespace("shop"),
    "create a ServiceAccount token": lambda core, _: core.create_namespaced_service_account_token(
        "opsbot", "opsbot", {"spec": {}}),
}


@pytest.mark.parametrize("what", FORBIDDEN)
def test_the_api_server_refuses_what_opsbot_must_not_do(twins: Twins, secrets: None, what: str) -> None:
    core, apps = _apis(twins)
    with pytest.raises(ApiException) as refused:
        FORBIDDEN[what](core, apps)
    assert refused.value.status == 403, f"{what}: {refused.value.status} {refused.value.reason}"
    assert f'User "{SUBJECT}" cannot' in json.loads(refused.value.body)["message"]


def test_exec_into_a_pod_is_refused(twins: Twins, controlplane: ControlPlane) -> None:
    core, _ = _apis(twins)
    pod = core.list_namespaced_pod("shop", label_selector="app=checkout").items[0].metadata.name
    token = yaml.safe_load(twins.real.kubernetes.kubeconfig.read_text())["users"][0]["user"]["token"]
    trust = ssl.create_default_context(cafile=str(controlplane.ca_file))
    r = httpx.post(f"{controlplane.url}/api/v1/namespaces/shop/pods/{pod}/exec?command=sh&stdout=true",
                   headers={"Authorization": f"Bearer {token}"}, verify=trust)
    assert r.status_code == 403, r.text
    assert r.json()["message"].startswith(f'pods "{pod}" is forbidden: User "{SUBJECT}" cannot create '
                                          'resource "pods/exec"')


@pytest.fixture(scope="module")
def secrets(controlplane: ControlPlane) -> None:
    """A Secret in namespace vault (where a test applies deploy/'s opt-in Role) and one in sealed (never)."""
    admin = dynamic(controlplane.admin_kubeconfig)
    for ns in ("vault", "sealed"):
        admin.resources.get(api_version="v1", kind="Namespace").create(body={"metadata": {"name": ns}})
        admin.resources.get(api_version="v1", kind="Secret").create(namespace=ns, body={
            "metadata": {"name": "db-credentials"}, "stringData": {"password": "s3cr3t-value-42"}})


def test_secrets_are_listed_only_where_the_opt_in_role_is_applied(
        twins: Twins, controlplane: ControlPlane, secrets: None) -> None:
    door = make_door(twins.real)
    before = door.run("k8s_list", {"kind": "Secret", "namespace": "vault"}, WHO)
    assert before.status == Status.error and before.error.startswith(NOT_READABLE)
    apply(dynamic(controlplane.admin_kubeconfig), DEPLOY / "optional" / "secret-metadata.yaml", "vault")
    after = door.run("k8s_list", {"kind": "Secret", "namespace": "vault"}, WHO)
    assert after.status == Status.success, after.error
    assert [i["name"] for i in after.data["items"]] == ["db-credentials"]
    assert "s3cr3t-value-42" not in str(after.data), "a Secret's value never leaves the tool"
    elsewhere = door.run("k8s_list", {"kind": "Secret", "namespace": "sealed"}, WHO)
    assert elsewhere.status == Status.error and elsewhere.error.startswith(NOT_READABLE)
