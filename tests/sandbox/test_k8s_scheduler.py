"""The emulator's scheduler gives the default scheduler's placement and its FailedScheduling sentences."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from sandbox.k8s_nodes import node
from sandbox.k8s_scheduler import schedule
from sandbox.scenario_cluster import Node, Taint
from tools.k8s_quantity import quantity


def _nodes() -> list[dict]:
    specs = [
        Node(name="a", labels={"pool": "general"}, capacity={"cpu": "2", "memory": "4Gi", "pods": 3}),
        Node(name="b", labels={"pool": "general"}, capacity={"cpu": "2", "memory": "4Gi", "pods": 3},
             unschedulable=True),
        Node(name="gpu", labels={"pool": "gpu"}, capacity={"cpu": "8", "memory": "32Gi", "pods": 110,
                                                           "nvidia.com/gpu": 1},
             taints=[Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")]),
    ]
    return [node(n, i, 0, 0) for i, n in enumerate(specs)]


def _pod(requests: dict | None = None, **spec) -> dict:
    return {"containers": [{"name": "c", "image": "x", "resources": {"requests": requests or {}}}], **spec}


def test_quantities_read_as_kubernetes_writes_them() -> None:
    assert quantity("500m") == Decimal("0.5") and quantity("2Gi") == 2 * 2**30 and quantity(4) == 4
    assert quantity("1e3") == 1000 and quantity("128M") == 128 * 10**6


def test_a_pod_that_fits_goes_to_the_least_loaded_fitting_node() -> None:
    where, why = schedule(_pod({"cpu": "1"}), _nodes(), {"a": Counter({"pods": Decimal(1)})}, {})
    assert (where, why) == ("a", None), "b is cordoned and gpu's taint is not tolerated"


def test_every_node_fails_on_its_first_filter_and_the_reasons_are_counted_and_sorted() -> None:
    where, why = schedule(_pod({"cpu": "3"}), _nodes(), {}, {})
    assert where is None
    assert why == ("0/3 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
                   "{nvidia.com/gpu: present}, 1 node(s) were unschedulable. preemption: 0/3 nodes are available: "
                   "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")


def test_a_gpu_pod_that_tolerates_the_taint_but_asks_too_much_is_insufficient_everywhere() -> None:
    tolerate = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    asked = _pod(tolerations=tolerate, containers=[{"name": "c", "image": "x",
                                                    "resources": {"limits": {"nvidia.com/gpu": "2"}}}])
    where, why = schedule(asked, _nodes(), {}, {})
    assert why.startswith("0/3 nodes are available: 2 Insufficient nvidia.com/gpu, 1 node(s) were unschedulable")
    one = _pod(tolerations=tolerate, nodeSelector={"pool": "gpu"},
               containers=[{"name": "c", "image": "x", "resources": {"limits": {"nvidia.com/gpu": "1"}}}])
    assert schedule(one, _nodes(), {}, {}) == ("gpu", None)


def test_selector_pod_limit_and_claims() -> None:
    where, why = schedule(_pod(nodeSelector={"disktype": "ssd"}), _nodes(), {}, {})
    assert "2 node(s) didn't match Pod's node affinity/selector" not in why  # b fails earlier, on cordon
    assert "1 node(s) didn't match Pod's node affinity/selector" in why
    full = {"a": Counter({"pods": Decimal(3)})}
    assert "1 Too many pods" in schedule(_pod(), _nodes(), full, {})[1]
    claim = _pod(volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])
    assert schedule(claim, _nodes(), {}, {})[1].startswith(
        '0/3 nodes are available: persistentvolumeclaim "data" not found.')
    assert "pod has unbound immediate PersistentVolumeClaims" in schedule(claim, _nodes(), {}, {"data": "Pending"})[1]
    assert schedule(claim, _nodes(), {}, {"data": "Bound"}) == ("a", None)


def test_required_node_affinity_is_a_selector_too() -> None:
    wants_gpu_pool = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "In", "values": ["gpu"]}]}]}}}
    where, why = schedule(_pod(affinity=wants_gpu_pool), _nodes(), {}, {})
    assert where is None and "1 node(s) didn't match Pod's node affinity/selector" in why
    assert "1 node(s) had untolerated taint {nvidia.com/gpu: present}" in why
    not_gpu = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "pool", "operator": "NotIn", "values": ["gpu"]}]}]}}}
    assert schedule(_pod(affinity=not_gpu), _nodes(), {}, {}) == ("a", None)


def test_a_bound_volume_pinned_to_a_zone_places_its_pod_there_or_nowhere() -> None:
    zones = [node(Node(name=n, labels={"topology.kubernetes.io/zone": z}), i, 0, 0)
             for i, (n, z) in enumerate([("c1", "europe-west1-c"), ("d1", "europe-west1-d")])]
    claim = _pod(volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])
    pinned = lambda zone: {"data": [{"matchExpressions": [  # noqa: E731
        {"key": "topology.kubernetes.io/zone", "operator": "In", "values": [zone]}]}]}
    assert schedule(claim, zones, {}, {"data": "Bound"}, pinned("europe-west1-d")) == ("d1", None)
    assert schedule(claim, zones, {}, {"data": "Bound"}, pinned("europe-west1-b")) == (None, (
        "0/2 nodes are available: 2 node(s) had volume node affinity conflict. preemption: 0/2 nodes are "
        "available: 2 Preemption is not helpful for scheduling."))
    short = schedule(_pod({"cpu": "9"}, volumes=claim["volumes"]), zones, {}, {"data": "Bound"},
                     pinned("europe-west1-b"))[1]
    assert short.startswith("0/2 nodes are available: 2 Insufficient cpu."), "resources are checked first"
