"""Prometheus + Alertmanager + the live exporter on loopback; loading a scenario's metric history and rules.

Layout in the state dir: prometheus.yml, rules.yml, alertmanager.yml, exporter.json (what the exporter
serves), prometheus-data/ and alertmanager-data/ (replaced at each load), backfill.om (the last history).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from sandbox import procs
from sandbox.exporter import STATE_FILE, write_state
from sandbox.k8s_state_metrics import KSM
from sandbox.scenario import Scenario
from sandbox.signals import JOB, write_openmetrics

DEFAULT_WEBHOOK = "http://127.0.0.1:9/webhooks/alertmanager"
SCRAPE_INTERVAL = "5s"
# rules are evaluated every second, so a loaded scenario's alert fires at once; firing alerts are resent when
# more than RESEND_DELAY has passed since the last send (so every 5 s) and each send is valid for 4 × 4 s: a
# Prometheus that stalls for up to 11 s between sends does not let Alertmanager resolve the alert
EVALUATION_INTERVAL = "1s"
RESEND_DELAY = "4s"
_REPO = Path(__file__).resolve().parent.parent


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def webhook_url(state_dir: Path) -> str:
    """Where Alertmanager posts: state_dir/webhook.url if present (opsbot's intake), else a dead placeholder."""
    path = state_dir / "webhook.url"
    return path.read_text().strip() if path.exists() and path.read_text().strip() else DEFAULT_WEBHOOK


def post_alerts_to(state_dir: Path, url: str, alertmanager_port: int | None = None) -> None:
    """Alertmanager's webhook receiver becomes `url`: at its next start, or at once when its port is given
    (the configuration rewritten and reloaded)."""
    (state_dir / "webhook.url").write_text(url)
    if alertmanager_port is None:
        return
    write_alertmanager_config(state_dir)
    try:
        httpx.post(f"http://127.0.0.1:{alertmanager_port}/-/reload", timeout=10).raise_for_status()
    except httpx.HTTPError as e:
        raise procs.SandboxError(f"Alertmanager on port {alertmanager_port} did not reload its configuration: "
                                 f"{type(e).__name__}: {e}") from None


def write_prometheus_config(state_dir: Path, exporter_port: int, alertmanager_port: int,
                            state_metrics: str | None = None) -> None:
    """`state_metrics`: a real kube-state-metrics' host:port, scraped as kube-prometheus scrapes it (job and
    service `kube-state-metrics`) in place of the exporter's emulated series."""
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "scrape_timeout": "4s",
                   "evaluation_interval": EVALUATION_INTERVAL},
        "rule_files": [str(state_dir / "rules.yml")],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]}]},
        "scrape_configs": [
            {
                "job_name": JOB,
                "honor_labels": True,  # the exporter's job label wins, as in the backfilled history
                "static_configs": [{"targets": [f"127.0.0.1:{exporter_port}"]}],
                # the history has no instance label; drop the scrape's so both are one series
                "metric_relabel_configs": [{"action": "labeldrop", "regex": "instance"}],
            }
        ],
    }
    if state_metrics:
        config["scrape_configs"].append({
            "job_name": KSM["job"],
            "static_configs": [{"targets": [state_metrics], "labels": {"service": KSM["service"]}}],
            "metric_relabel_configs": [{"action": "labeldrop", "regex": "instance"}],
        })
    (state_dir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def write_rules(state_dir: Path, scenario: Scenario | None) -> None:
    rules = [
        {
            "alert": a.name,
            "expr": a.expr,
            "for": a.for_,
            "labels": a.labels,
            "annotations": a.annotations,
        }
        for a in (scenario.alerts if scenario else [])
    ]
    groups = [{"name": f"scenario-{scenario.name}", "interval": EVALUATION_INTERVAL,
               "rules": rules}] if rules else []
    (state_dir / "rules.yml").write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))


def write_alertmanager_config(state_dir: Path) -> None:
    config = {
        "route": {
            "receiver": "opsbot",
            "group_by": ["alertname", "namespace"],
            "group_wait": "1s",
            "group_interval": "5s",
            "repeat_interval": "1h",
        },
        "receivers": [{"name": "opsbot", "webhook_configs": [{"url": webhook_url(state_dir), "send_resolved": True}]}],
    }
    (state_dir / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))


def _start_exporter(state_dir: Path, port: int, real_kubernetes: bool) -> None:
    argv = [sys.executable, "-m", "sandbox.exporter", "--port", str(port), "--state-dir", str(state_dir),
            *(["--real-kubernetes"] if real_kubernetes else [])]
    pid = procs.start("exporter", argv, state_dir, env={"PYTHONPATH": str(_REPO)})
    procs.wait_until("exporter", lambda: _ready(f"http://127.0.0.1:{port}/metrics"), pid, state_dir)


def _start_prometheus(state_dir: Path, port: int) -> None:
    argv = [
        "prometheus",
        f"--config.file={state_dir / 'prometheus.yml'}",
        f"--storage.tsdb.path={state_dir / 'prometheus-data'}",
        "--storage.tsdb.retention.time=30d",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",  # alerts' generatorURL links here, not to the hostname
        "--web.enable-lifecycle",
        # resend firing alerts every 5 s (default 1 m): the sends of the first ~5 s after a start go nowhere
        # (Prometheus learns its Alertmanager from service discovery, which syncs every 5 s), the next one
        # reaches it; this also lets Alertmanager resolve an alert ~16 s after it stops
        f"--rules.alert.resend-delay={RESEND_DELAY}",
    ]
    pid = procs.start("prometheus", argv, state_dir)
    procs.wait_until("prometheus", lambda: _ready(f"http://127.0.0.1:{port}/-/ready"), pid, state_dir)


def start_alertmanager(state_dir: Path, port: int) -> None:
    argv = [
        "prometheus-alertmanager",
        f"--config.file={state_dir / 'alertmanager.yml'}",
        f"--storage.path={state_dir / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        f"--web.external-url=http://127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    pid = procs.start("alertmanager", argv, state_dir)
    procs.wait_until("alertmanager", lambda: _ready(f"http://127.0.0.1:{port}/-/ready"), pid, state_dir)


def _fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def _promtool(*args: str) -> None:
    done = subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise procs.SandboxError(f"promtool {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def start(state_dir: Path, exporter_port: int, prometheus_port: int, alertmanager_port: int,
          state_metrics: str | None = None) -> None:
    """Start exporter, Alertmanager and Prometheus with nothing loaded (no series, no rules); `state_metrics`:
    a real kube-state-metrics to scrape too (see write_prometheus_config)."""
    (state_dir / STATE_FILE).unlink(missing_ok=True)
    write_rules(state_dir, None)
    write_prometheus_config(state_dir, exporter_port, alertmanager_port, state_metrics)
    write_alertmanager_config(state_dir)
    _fresh_dir(state_dir / "prometheus-data")
    _fresh_dir(state_dir / "alertmanager-data")
    _start_exporter(state_dir, exporter_port, real_kubernetes=state_metrics is not None)
    start_alertmanager(state_dir, alertmanager_port)
    _start_prometheus(state_dir, prometheus_port)


def _baseline(exporter_port: int) -> None:
    """Ask the exporter once, now: it reads the new scenario and notes each recovering deployment's revision as
    loaded. Left to Prometheus' first scrape (up to a scrape interval after the restart), a fix approved within
    those seconds would be taken for the baseline and never seen as a recovery."""
    try:
        httpx.get(f"http://127.0.0.1:{exporter_port}/metrics", timeout=10).raise_for_status()
    except httpx.HTTPError as e:
        raise procs.SandboxError(f"the exporter on port {exporter_port} did not serve the scenario: {e}") from None


def load(
    state_dir: Path, exporter_port: int, prometheus_port: int, alertmanager_port: int,
    scenario: Scenario, t0: float,
) -> None:
    """Serve the scenario live, backfill its history up to a second ago, and restart Prometheus and
    Alertmanager on fresh data dirs so the history, the rules and no stale alerts are there at once."""
    write_state(state_dir, scenario, t0)
    _baseline(exporter_port)
    write_rules(state_dir, scenario)
    _promtool("check", "rules", str(state_dir / "rules.yml"))
    write_alertmanager_config(state_dir)

    blocks = _fresh_dir(state_dir / "prometheus-data.new")
    if scenario.metrics.series:
        om = state_dir / "backfill.om"
        # up to a second ago: Prometheus starts after this, so its first scrape follows the history at
        # once instead of leaving a gap that rate() windows would read as a dip
        write_openmetrics(scenario.metrics, t0, om, end=time.time() - t0 - 1)
        _promtool("tsdb", "create-blocks-from", "openmetrics", str(om), str(blocks))

    procs.stop("prometheus", state_dir)
    procs.stop("alertmanager", state_dir)
    data = state_dir / "prometheus-data"
    shutil.rmtree(data, ignore_errors=True)
    blocks.rename(data)
    _fresh_dir(state_dir / "alertmanager-data")
    start_alertmanager(state_dir, alertmanager_port)
    _start_prometheus(state_dir, prometheus_port)
