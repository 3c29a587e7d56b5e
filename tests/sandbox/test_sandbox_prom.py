"""The sandbox's metrics: one continuous series from the backfilled history into the live scrape."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.polling import poll as bounded_poll
from sandbox import scenario
from sandbox.exporter import _State, render, write_state
from sandbox.manager import Sandbox
from sandbox.scenario import offset
from sandbox.signals import grid, value_at, write_openmetrics

SC = scenario.load("crashloop-missing-env")
RESTARTS = next(s for s in SC.metrics.series if s.name == "kube_pod_container_status_restarts_total")
REPLICAS = next(s for s in SC.metrics.series if s.name == "kube_deployment_status_replicas_available")
T0 = 1_800_000_000.0


def poll(check: Callable[[], Any], within: float = 60.0, every: float = 0.5) -> Any:
    """Poll until check() returns something truthy; fail after `within` seconds."""
    answer = bounded_poll(check, within, every)
    if not answer:
        pytest.fail(f"condition not met within {within:.0f}s")
    return answer


def samples(om: Path) -> dict[str, list[tuple[float, float]]]:
    out: dict[str, list[tuple[float, float]]] = {}
    for line in om.read_text().splitlines():
        if line.startswith("#"):
            continue
        series, value, ts = line.rsplit(" ", 2)
        out.setdefault(series, []).append((float(ts), float(value)))
    return out


# --- signals and the OpenMetrics history (no servers) ---------------------------------------------------

def test_counter_is_monotonic_and_continuous_across_the_backfill_edge() -> None:
    times = [x / 4 for x in range(-4 * 7900, 4 * 900)]  # every 0.25 s from before the history to +15 min
    values = [value_at(RESTARTS, SC.metrics, t) for t in times]
    assert all(b >= a for a, b in zip(values, values[1:], strict=False))
    assert max(b - a for a, b in zip(values, values[1:], strict=False)) <= 0.006 * 0.25 + 1e-9
    assert values[times.index(-1500.0)] == 0.0  # nothing restarted before the spike at -25m
    assert value_at(RESTARTS, SC.metrics, 0) == pytest.approx(0.006 * 25 * 60, abs=0.1)


def test_openmetrics_history_ends_a_minute_before_load_with_the_values_the_exporter_continues(tmp_path: Path) -> None:
    om = tmp_path / "history.om"
    write_openmetrics(SC.metrics, T0, om)
    text = om.read_text()
    assert text.startswith("# TYPE ") and text.endswith("# EOF\n")
    by_series = samples(om)
    assert len(by_series) == len(SC.metrics.series)
    assert all('job="sandbox"' in s for s in by_series)
    restarts = next(v for k, v in by_series.items() if k.startswith("kube_pod_container_status_restarts_total"))
    assert restarts[0][0] == T0 - 7200 - 600 and restarts[-1][0] <= T0 - 60
    assert len(restarts) == len(grid(SC.metrics))
    last_ts, last_value = restarts[-1]
    assert last_value == value_at(RESTARTS, SC.metrics, last_ts - T0)  # bit for bit: same sum, same order

    live = render(SC, T0, T0 + 30)
    line = next(ln for ln in live.splitlines() if ln.startswith("kube_pod_container_status_restarts_total{"))
    assert 'job="sandbox"' in line
    value, stamp = line.rsplit(" ", 2)[1:]
    live_value = float(value)
    assert int(stamp) == int((T0 + 30) * 1000), "the sample says which instant it is the value of"
    assert live_value == pytest.approx(last_value + 0.006 * (30 + T0 - last_ts), abs=1e-6)


def test_promtool_accepts_the_history(tmp_path: Path) -> None:
    om = tmp_path / "history.om"
    write_openmetrics(SC.metrics, time.time(), om)
    done = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(om), str(tmp_path / "data")],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "data").glob("*/meta.json"))


def test_nothing_loaded_serves_an_empty_page() -> None:
    assert render(None, 0.0, time.time()) == ""


# --- the running sandbox ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prom(sandbox: Sandbox) -> tuple[str, float]:
    t0 = json.loads((sandbox.dir / "exporter.json").read_text())["t0"]
    return f"http://127.0.0.1:{sandbox.ports().prometheus}", t0


def instant(url: str, query: str, at: float | None = None) -> list[dict[str, Any]]:
    params = {"query": query, **({"time": str(at)} if at is not None else {})}
    body = httpx.get(f"{url}/api/v1/query", params=params, timeout=5).json()
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_exporter_serves_every_series_with_the_job_label(sandbox: Sandbox) -> None:
    page = httpx.get(f"http://127.0.0.1:{sandbox.ports().exporter}/metrics", timeout=5).text
    exposed = [ln for ln in page.splitlines() if ln and not ln.startswith("#")]
    own = [ln for ln in exposed if 'job="sandbox"' in ln]
    assert len(own) == len(SC.metrics.series)
    assert all('job="kube-state-metrics"' in ln or 'job="kubelet"' in ln for ln in set(exposed) - set(own))
    assert re.search(r'kube_deployment_status_replicas_available\{[^}]*deployment="checkout"[^}]*\} 0\.0', page)


def test_history_shows_the_replicas_dropping_at_the_scenarios_offset(prom: tuple[str, float]) -> None:
    url, t0 = prom
    body = httpx.get(
        f"{url}/api/v1/query_range",
        params={"query": f'{REPLICAS.name}{{job="sandbox"}}', "start": t0 - 7200, "end": t0 - 120, "step": 15},
        timeout=5,
    ).json()
    (series,) = body["data"]["result"]
    values = [(float(t), float(v)) for t, v in series["values"]]
    assert values[0][1] == 3.0 and values[-1][1] == 0.0
    first_zero = next(t for t, v in values if v == 0.0)
    assert abs(first_zero - (t0 + offset("-24m").total_seconds())) <= 15


def test_live_scrape_continues_the_backfilled_counter_without_a_reset(prom: tuple[str, float]) -> None:
    url, t0 = prom
    series = f'{RESTARTS.name}{{job="sandbox"}}'
    poll(lambda: instant(url, f"timestamp({series}) > {t0} + 15"))  # live samples have been scraped
    at = t0 + 30  # the ten minutes around the load, however long ago it was
    assert float(instant(url, f"resets({series}[30m])", at)[0]["value"][1]) == 0.0
    (raw,) = instant(url, f"{series}[10m]", at)  # one series: history and live scrape share labels
    stored = [(float(t), float(v)) for t, v in raw["values"]]
    assert any(t < t0 for t, _ in stored) and any(t > t0 for t, _ in stored)
    for t, v in stored:  # each backfilled and each scraped sample is the signal's value at its timestamp
        assert v == pytest.approx(value_at(RESTARTS, SC.metrics, t - t0), abs=0.001), t - t0


def test_the_crashloop_alert_fires_in_prometheus(prom: tuple[str, float]) -> None:
    url, _ = prom

    def firing() -> list[dict[str, Any]]:
        alerts = httpx.get(f"{url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "KubePodCrashLooping" and a["state"] == "firing"]

    (alert,) = poll(firing)
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["namespace"] == "shop"


def test_the_exporter_follows_a_reload_without_a_restart(tmp_path: Path) -> None:
    state = _State(tmp_path)
    assert state.current() is None
    write_state(tmp_path, SC, T0)
    assert state.current() == (SC, T0)
    write_state(tmp_path, SC, T0 + 60)
    assert state.current() == (SC, T0 + 60)


def test_the_cluster_is_in_prometheus_as_kube_state_metrics_shows_it(prom: tuple[str, float]) -> None:
    """kubernetes-mixin's KubePodCrashLooping and KubeDeploymentReplicasMismatch, as they are written, find the
    emulated cluster's pods and deployments by their real names."""
    url, _ = prom
    crash = ('max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", '
             'job="kube-state-metrics", namespace=~".*"}[5m]) >= 1')
    found = poll(lambda: instant(url, crash))
    assert {r["metric"]["container"] for r in found} == {"checkout"} and len(found) == 3
    assert all(r["metric"]["pod"].startswith("checkout-") and r["metric"]["namespace"] == "shop" for r in found)
    mismatch = ('(kube_deployment_spec_replicas{job="kube-state-metrics"} > '
                'kube_deployment_status_replicas_available{job="kube-state-metrics"})')
    assert {r["metric"]["deployment"] for r in instant(url, mismatch)} == {"checkout"}
    restarts = instant(url, 'kube_pod_container_status_restarts_total{job="kube-state-metrics", namespace="shop"}')
    assert sorted(float(r["value"][1]) for r in restarts if r["metric"]["pod"].startswith("checkout-")) == [9.0] * 3
