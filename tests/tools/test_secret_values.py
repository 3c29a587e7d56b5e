"""A Kubernetes Secret's values never leave a read tool, however they are printed: a pod that logs its decoded
password, an event or a ConfigMap that repeats it, a log document in Elasticsearch, the base64 form as stored.
No pattern knows these values; the Secret does. Names, users and hosts stay readable."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest

from bot.guard.door import Caller
from bot.settings import Settings
from tests.support.doors import make_door
from tests.support.planting import plant_cluster, planted_logs
from tools.base import Status
from tools.k8s_secret_values import MASK

PASSWORD = "Wx7-tiger-lamp-42"  # a value only the Secret knows to be one
API_KEY = "q8Rz1vLm0Kp4"
URL_PASSWORD = "Pg55-stapler"
DB_URL = f"postgres://checkout:{URL_PASSWORD}@db.shop:5432/checkout"
STORED = base64.b64encode(PASSWORD.encode()).decode()
LINES = [f"connecting as checkout with {PASSWORD}", f"retrying: key {API_KEY} refused by db.shop",
         f"env dump DB_PASSWORD_B64 {STORED}", f"dsn {DB_URL} unreachable"]
LEAKS = (PASSWORD, API_KEY, URL_PASSWORD, STORED)


@pytest.fixture
def planted(mutable_settings: Settings, private_k8s: tuple) -> Iterator[Settings]:
    state, port = private_k8s
    plant_cluster(state, port, LINES, events=[f"Readiness probe failed: login with {PASSWORD} refused"], objects=[{
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "checkout-db", "namespace": "shop"},
        "stringData": {"password": PASSWORD, "api.key": API_KEY, "username": "checkout", "DATABASE_URL": DB_URL,
                       "app.env": f"LOG_LEVEL=info\nSMTP_PASSWORD={PASSWORD}\n"}}, {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "checkout-debug", "namespace": "shop"},
        "data": {"notes": f"temporary password {PASSWORD} until Friday"}}])
    with planted_logs(mutable_settings, LINES) as s:
        yield s


def test_a_secrets_values_never_leave_a_read_tool(planted: Settings, oncall: Caller) -> None:
    door = make_door(planted)
    calls = {
        "logs": ("k8s_pod_logs", {"namespace": "shop", "pod": "checkout", "tail_lines": 200}),
        "events": ("k8s_events", {"namespace": "shop"}),
        "configmap": ("k8s_describe", {"kind": "ConfigMap", "name": "checkout-debug", "namespace": "shop"}),
        "secret": ("k8s_describe", {"kind": "Secret", "name": "checkout-db", "namespace": "shop"}),
        "search": ("logs_search", {"service": "checkout", "namespace": "shop", "since": "last 1h"}),
    }
    shown = {}
    for name, (tool, args) in calls.items():
        r = door.run(tool, args, oncall)
        assert r.status == Status.success, (name, r.error, r.notice)
        shown[name] = json.dumps(r.model_dump(mode="json"), ensure_ascii=False)
    assert {name: [s for s in LEAKS if s in text] for name, text in shown.items()} == {n: [] for n in shown}
    assert MASK in shown["logs"] and MASK in shown["events"] and MASK in shown["configmap"]
    assert MASK in shown["search"]
    # where it connects, as whom, stays readable: only the values that are secrets went
    assert "connecting as checkout with" in shown["logs"] and "refused by db.shop" in shown["logs"]
    assert "@db.shop:5432/checkout unreachable" in shown["logs"]
    assert json.loads(shown["secret"])["data"]["keys"] == ["DATABASE_URL", "api.key", "app.env", "password",
                                                           "username"]
