"""`opsbot serve` on the sandbox's own settings, as the docs run it: `sandbox up`, `sandbox load`, then `serve`
receives what the sandbox's Alertmanager sends; `opsbot smoke` proves the Alertmanager → opsbot hop; its
synthetic incidents are never written into knowledge."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml

from bot.intake.fingerprint import fingerprint
from bot.intake.incidents import IncidentStore
from bot.intake.stream import GROUP, stream_key
from bot.intake.webhooks.synthetic import SMOKE_ALERT, iso, smoke_labels
from bot.settings import Settings, load_settings
from bot.wiring import redis_client
from sandbox import scenario
from sandbox.manager import Sandbox, intake_url
from tests.support.alerting import wait_for
from tests.support.doors import SCENARIO
from tests.support.serve_process import OPSBOT, serving


def opsbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OPSBOT, *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def sandbox_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A sandbox brought up and loaded by the real commands, as docs/operations.md walks through it."""
    state = tmp_path_factory.mktemp("sandbox-serve")
    try:
        for args in (("sandbox", "up", "--dir", str(state)), ("sandbox", "load", SCENARIO, "--dir", str(state))):
            done = opsbot(*args)
            assert done.returncode == 0, done.stdout + done.stderr
        yield state
    finally:
        opsbot("sandbox", "down", "--dir", str(state))


def serve_port(state: Path) -> int:
    return int(yaml.safe_load((state / "opsbot.yaml").read_text())["webhooks"]["port"])


def incidents(settings: Settings) -> IncidentStore:
    return IncidentStore(redis_client(settings), settings.redis.key_prefix, settings.webhooks.dedup_window_s,
                         settings.webhooks.flap_threshold)


def test_serve_with_the_sandbox_settings_receives_the_sandbox_alertmanagers_alerts(sandbox_dir: Path) -> None:
    """An alert posted to the sandbox's Alertmanager, and the one its Prometheus fires from the scenario's rule,
    both reach `opsbot serve` started on the sandbox's settings alone."""
    config, port = sandbox_dir / "opsbot.yaml", serve_port(sandbox_dir)
    assert Sandbox(sandbox_dir).serve_port() == port, "the port survives `load`"
    settings = load_settings(config)
    labels = {"alertname": "CheckoutDown", "namespace": "shop", "service": "checkout", "severity": "warning"}
    with serving(config, port):  # no --port: serve listens where the sandbox's Alertmanager posts
        alert = {"labels": labels, "annotations": {"summary": "checkout is down"}, "startsAt": iso(datetime.now(UTC))}
        assert httpx.post(f"{settings.alertmanager.url}/api/v2/alerts", json=[alert], timeout=10).status_code == 200
        posted = fingerprint("alertmanager", labels)
        opened = wait_for(lambda: incidents(settings).by_fingerprint(posted), 60,
                          "the alert posted to the sandbox's Alertmanager to reach `opsbot serve`")
        assert opened.status == "firing" and opened.source == "alertmanager"
        fired = wait_for(lambda: [i for i in incidents(settings).recent() if i.fingerprint != posted], 180,
                         "the scenario's alert, fired by the sandbox's Prometheus, to reach `opsbot serve`")
        assert fired[0].source == "alertmanager" and fired[0].severity == "P0", fired


def test_smoke_proves_the_alertmanager_hop_and_leaves_nothing_in_knowledge(sandbox_dir: Path) -> None:
    from knowledge.store import KnowledgeStore
    from tools.catalog import tool_map

    config, port = sandbox_dir / "opsbot.yaml", serve_port(sandbox_dir)
    settings = load_settings(config)
    client = redis_client(settings)
    with serving(config, port):
        smoke = opsbot("smoke", "--config", str(config), "--timeout", "60")
        assert smoke.returncode == 0, smoke.stdout + smoke.stderr
        assert "[ok] Alertmanager delivered it to opsbot's webhook" in smoke.stdout, smoke.stdout
        assert "[ok] resolved in Alertmanager" in smoke.stdout and "every hop works" in smoke.stdout
        run = re.search(r"opsbot smoke (\w+) against", smoke.stdout).group(1)  # type: ignore[union-attr]
        fps = [fingerprint("alertmanager", smoke_labels(run, hop)) for hop in ("webhook", "alertmanager")]
        # both smoke incidents resolved (the second by Alertmanager's resolved notification), every entry
        # handled: whatever serve was going to learn from them, it has
        wait_for(lambda: all((i := incidents(settings).by_fingerprint(fp)) and i.status == "resolved" for fp in fps)
                 and client.xpending(stream_key(settings.redis.key_prefix), GROUP)["pending"] == 0, 90,
                 "the smoke incidents to resolve and their entries to be handled")
    store = KnowledgeStore.open(settings.knowledge.path, tool_map(), settings.knowledge.playbooks_dir)
    learned = [h.incident for h in store.similar_incidents(f"{SMOKE_ALERT} opsbot smoke test {run}", k=20)]
    assert not [i for i in learned if i and (i.alert == SMOKE_ALERT or "opsbot smoke" in i.title)], learned


def test_the_serve_port_survives_a_restart_of_the_sandbox(sandbox_dir: Path) -> None:
    before = serve_port(sandbox_dir)
    for args in (("sandbox", "down", "--dir", str(sandbox_dir)), ("sandbox", "up", "--dir", str(sandbox_dir))):
        done = opsbot(*args)
        assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(rf"opsbot serve +127\.0\.0\.1:{before} ", done.stdout), done.stdout
    assert serve_port(sandbox_dir) == before
    am = yaml.safe_load((sandbox_dir / "alertmanager.yml").read_text())
    assert [w["url"] for r in am["receivers"] for w in r["webhook_configs"]] == [
        f"http://127.0.0.1:{before}/webhooks/alertmanager"]


def test_a_run_beside_a_running_serve_gives_alertmanager_back_to_serve(sandbox_dir: Path) -> None:
    """The demo and eval serve on the serve port when it is free; while `opsbot serve` holds it, on another
    port, and Alertmanager (running, reloaded) posts to the serve port again once they end."""
    sb = Sandbox(sandbox_dir)
    am = f"http://127.0.0.1:{sb.ports().alertmanager}"

    def posts_to() -> list[str]:
        config = yaml.safe_load(httpx.get(f"{am}/api/v2/status", timeout=5).json()["config"]["original"])
        return [w["url"] for r in config["receivers"] for w in r["webhook_configs"]]

    with sb.run_port() as port:
        assert port == sb.serve_port(), "nothing listens there: the run takes the serve port itself"
    with socket.socket() as holder:  # what a running `opsbot serve` does to the port
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: the earlier serves' TIME_WAITs
        holder.bind(("127.0.0.1", sb.serve_port()))
        holder.listen()
        with sb.run_port() as port:
            assert port != sb.serve_port()
            sb.load(scenario.load(SCENARIO))  # what the demo does inside the block: Alertmanager restarts
            assert posts_to() == [intake_url(port)]
        assert posts_to() == [intake_url(sb.serve_port())], "serve gets the alerts again"
