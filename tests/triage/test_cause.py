"""When no failure mode fits, the diagnosis says the cause was not found, proposes nothing and quotes only the
alerted workload's and its followed neighbours' lines: an unrelated crash-looping pod beside a healthy-looking
alerted workload is never its cause; latency keeps its release mode only where a release read began it; the
playbook's mode and the log lines that carry the cause (a poison message's id, an SDK's credentials)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.intake.alert import Alert
from bot.intake.fingerprint import fingerprint
from bot.triage.diagnosis import diagnose
from bot.triage.quotes import telling
from tests.triage.test_diagnosis import _deployment
from tools.base import Status, ToolResult

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATENCY = ('histogram_quantile(0.99, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket'
           '{namespace="shop",service="checkout"}[5m]))) > 2')
LEDGER_CRASH = "FATAL: could not connect to server: Connection refused (ledger-db.shop:5432)"


def _result(tool: str, **data: Any) -> ToolResult:
    return ToolResult(tool=tool, status=Status.success, invocation=tool, data=data)


def _latency(**labels: str) -> Alert:
    labels = {"alertname": "HighRequestLatency", "severity": "warning", **labels}
    return Alert(source="alertmanager", name=labels["alertname"], status="firing", severity="P2", labels=labels,
                 fingerprint=fingerprint("alertmanager", labels), starts_at=NOW, expr=LATENCY)


def _ledger_crashing() -> list[ToolResult]:
    """Another service of the namespace crash-looping, its telling line in both the pod's logs and the search."""
    container = {"name": "ledger", "ready": False, "restarts": 9,
                 "state": {"state": "waiting", "reason": "CrashLoopBackOff", "message": "back-off 5m0s"},
                 "last_state": {"state": "terminated", "reason": "Error", "exit_code": 1}}
    return [_result("k8s_describe", kind="Pod", namespace="shop", name="ledger-7c9d-q8", containers=[container],
                    init_containers=[], events=[], conditions=[], controlled_by=["Deployment/ledger"]),
            _result("k8s_pod_logs", pod="ledger-7c9d-q8", container="ledger", previous=True,
                    lines=["starting ledger 2.3.1", LEDGER_CRASH]),
            _result("logs_search", by_message=[{"message": LEDGER_CRASH, "count": 40, "level": "error",
                                                "service": "ledger"}])]


def _checkout_healthy() -> list[ToolResult]:
    return [_result("k8s_pod_logs", pod="checkout-5d8f-x2", container="checkout",
                    lines=["GET /cart 200 812ms", "GET /cart 200 2411ms", "slow query: SELECT * FROM carts (2.3 s)"]),
            _result("logs_search", by_message=[{"message": "GET /cart 200 2411ms", "count": 300, "level": "info",
                                                "service": "checkout"}])]


def test_an_unrelated_crash_looping_pods_line_is_never_the_cause() -> None:
    results = [*_ledger_crashing(), *_checkout_healthy(), _deployment(timedelta(days=6))]
    d = diagnose(_latency(namespace="shop", service="checkout"), results, NOW)
    assert d is not None and d.mode == "cause-not-found" and d.rollback is None
    assert d.about == "Deployment shop/checkout"
    assert all("ledger" not in x and "Connection refused" not in x for x in [d.summary, *d.quotes])
    assert "slow query: SELECT * FROM carts (2.3 s)" in d.quotes, "the alerted workload's own telling line"
    assert d.advice and "no release" not in d.advice, "the card never states what was not checked"


def test_a_namespace_only_alert_does_not_take_the_namespaces_worst_pod_for_its_cause() -> None:
    d = diagnose(_latency(namespace="shop"), [*_ledger_crashing(), _result(
        "k8s_list", kind="Pod", namespace="shop", pods=[{"name": "ledger-7c9d-q8", "healthy": False,
                                                         "status": "CrashLoopBackOff"}])], NOW)
    assert d is not None and d.mode == "cause-not-found" and not d.quotes
    assert "ledger" not in d.about and "ledger" not in d.summary


def test_a_followed_neighbours_line_may_be_quoted() -> None:
    """The same line from the pod behind a Service the alerted workload calls is a neighbour's: it may name the
    cause."""
    service = _result("k8s_describe", kind="Service", namespace="shop", name="ledger",
                      endpoints={"ready": [], "not_ready": ["ledger-7c9d-q8 10.1.2.3"]})
    d = diagnose(_latency(namespace="shop", service="checkout"),
                 [*_ledger_crashing(), *_checkout_healthy(), service], NOW)
    assert d is not None and d.mode == "dependency-down" and d.summary == LEDGER_CRASH


def test_latency_keeps_its_release_mode_only_where_a_release_began_it() -> None:
    released = diagnose(_latency(namespace="shop", service="checkout"),
                        [*_checkout_healthy(), _deployment(timedelta(days=6), timedelta(minutes=20))], NOW)
    assert released is not None and released.mode == "latency-regression"
    assert released.rollback == {"namespace": "shop", "deployment": "checkout"}
    assert "revision 2 of Deployment shop/checkout (shop/checkout:1.1) began just before it" in released.summary
    unreleased = diagnose(_latency(namespace="shop", service="checkout"), _checkout_healthy(), NOW)
    assert unreleased is not None and unreleased.mode == "cause-not-found" and unreleased.rollback is None


def test_the_id_of_the_message_processed_before_each_crash_is_kept() -> None:
    lines = ["INFO consumer started group=orders partition=3", "INFO processing message id=8f3a2c19d7e4 offset=1187",
             "panic: runtime error: index out of range [3] with length 3", "goroutine 1 [running]:",
             "INFO consumer started group=orders partition=3", "INFO processing message id=8f3a2c19d7e4 offset=1187",
             "panic: runtime error: index out of range [3] with length 3"]
    kept = telling(lines)
    assert kept[-2:] == ["INFO processing message id=8f3a2c19d7e4 offset=1187",
                         "panic: runtime error: index out of range [3] with length 3"]
    assert "INFO consumer started group=orders partition=3" not in kept


def test_lines_that_share_the_failures_identifier_are_kept() -> None:
    lines = ["INFO order_id=A-7731 accepted", "INFO order_id=B-1200 accepted", "INFO healthz ok",
             "ERROR charge failed order_id=A-7731: card_declined"]
    assert telling(lines) == ["INFO order_id=A-7731 accepted", "ERROR charge failed order_id=A-7731: card_declined"]


def test_an_sdks_credential_lines_are_kept_near_an_auth_failure() -> None:
    lines = ["INFO Found credentials from IAM Role: reports-node-role", "INFO uploading report.csv",
             "INFO uploading summary.csv",
             "ERROR An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"]
    assert telling(lines, 3) == [lines[0], lines[3]]
    assert telling(["INFO Found credentials in environment variables.", "ERROR disk full"]) == ["ERROR disk full"]
