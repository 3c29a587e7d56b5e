"""Several opsbot processes share one knowledge store through a Chroma server (knowledge.chroma_url): what
one writes, another finds; a URL where nothing answers is said in words, with the setting to fix."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

from bot.cli.main import app
from knowledge.client import KnowledgeUnavailable
from knowledge.incident import Incident
from knowledge.settings import ChromaAddress, KnowledgeSettings, chroma_address
from knowledge.store import KnowledgeStore
from sandbox import chroma_server, procs
from tools.catalog import tool_map

OPSBOT = str(Path(sys.executable).parent / "opsbot")
T0 = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
SHIPPED = KnowledgeSettings().playbooks_dir


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on a free loopback port, as `opsbot sandbox up --chroma` starts it."""
    state = tmp_path_factory.mktemp("chroma")
    yield chroma_server.start(state, procs.free_port())
    procs.stop(chroma_server.NAME, state)


def incident(incident_id: str, title: str, kind: str, root_cause: str) -> Incident:
    return Incident(id=incident_id, title=title, kind=kind, root_cause=root_cause, outcome="resolved",
                    started_at=T0, resolved_at=T0 + timedelta(minutes=25))


def config_file(tmp_path: Path, chroma_url: str) -> Path:
    dead = f"http://127.0.0.1:{procs.free_port()}"  # the other backends are not needed: nothing may reach them
    path = tmp_path / "opsbot.yaml"
    path.write_text(yaml.safe_dump({"redis": {"url": f"redis://127.0.0.1:{procs.free_port()}/0"},
                                    "prometheus": {"url": dead}, "alertmanager": {"url": dead},
                                    "elasticsearch": {"url": dead},
                                    "knowledge": {"path": str(tmp_path / "knowledge"), "chroma_url": chroma_url}}))
    return path


def test_what_one_process_writes_another_finds(chroma_url: str, tmp_path: Path) -> None:
    """Two stores on one server, as two replicas would open it: the first fills the empty server with the
    shipped playbooks, the second sees them without ingesting, and an incident one learns the other finds."""
    writer = KnowledgeStore.open(tmp_path / "writer", tool_map(), SHIPPED, url=chroma_url)
    reader = KnowledgeStore.open(tmp_path / "reader", tool_map(), url=chroma_url)
    assert reader.count("playbooks") == writer.count("playbooks") > 0
    assert reader.match_playbooks("KubePodCrashLooping", {"namespace": "shop"})[0].playbook.name == "crashloopbackoff"

    writer.add_incident(incident("inc-shared-1", "payments-api OOMKilled every 40 minutes", "oomkilled",
                                 "unbounded response cache"))
    hits = reader.similar_incidents("payments pods killed for running out of memory", k=1)
    assert [h.id for h in hits] == ["inc-shared-1"]
    assert hits[0].incident is not None and hits[0].incident.time_to_resolve_s == 25 * 60
    assert not list((tmp_path / "writer").glob("*.sqlite3")), "the collections live on the server, not in path"


CERT_PLAYBOOK = """---
name: certificate-expiry
title: A TLS certificate expires soon
alerts: [CertificateExpiresSoon]
diagnosis:
  - {tool: k8s_list, args: {namespace: "{namespace}"}}
---
Renew the certificate before it expires.
"""


def test_a_playbook_another_process_adds_is_matched_without_a_restart(chroma_url: str, tmp_path: Path) -> None:
    reader = KnowledgeStore.open(tmp_path / "reader", tool_map(), SHIPPED, url=chroma_url)
    assert reader.search("TLS certificate", kind="playbooks")  # the playbooks there are, read once
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "certificate-expiry.md").write_text(CERT_PLAYBOOK)
    KnowledgeStore.open(tmp_path / "writer", tool_map(), url=chroma_url).ingest_playbooks(folder)
    assert reader.search("TLS certificate expires soon", k=1, kind="playbooks")[0].id == "certificate-expiry"
    top = reader.match_playbooks("CertificateExpiresSoon", {"namespace": "shop"})[0]
    assert (top.playbook.name, top.matched_by) == ("certificate-expiry", "alert CertificateExpiresSoon")


def test_an_incident_learned_here_is_found_by_another_opsbot_process(chroma_url: str, tmp_path: Path) -> None:
    """A real second process: `opsbot knowledge search` with the same knowledge.chroma_url."""
    here = KnowledgeStore.open(tmp_path / "here", tool_map(), SHIPPED, url=chroma_url)
    here.add_incident(incident("inc-other", "checkout crash-looping after release 1.5.0", "crashloopbackoff",
                               "DATABASE_URL removed from the pod template"))
    done = subprocess.run([OPSBOT, "knowledge", "search", "checkout: DATABASE_URL is not set", "--kind", "incidents",
                           "--config", str(config_file(tmp_path, chroma_url))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "inc-other" in done.stdout and "outcome resolved" in done.stdout


def test_a_chroma_url_where_nothing_answers_is_named_with_its_setting(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{procs.free_port()}"
    with pytest.raises(KnowledgeUnavailable) as raised:
        KnowledgeStore.open(tmp_path / "db", tool_map(), SHIPPED, url=dead)
    assert str(raised.value).startswith(f"could not reach the Chroma server at {dead} (knowledge.chroma_url): "
                                        "ConnectError")


@pytest.mark.parametrize("command", [["knowledge", "search", "checkout crash"], ["serve"]])
def test_opsbot_fails_at_start_up_in_words_when_the_chroma_server_is_down(tmp_path: Path, command: list[str]) -> None:
    dead = f"http://127.0.0.1:{procs.free_port()}"
    result = CliRunner().invoke(app, [*command, "--config", str(config_file(tmp_path, dead))])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert f"opsbot: could not reach the Chroma server at {dead} (knowledge.chroma_url): " in result.stderr
    assert "Traceback" not in result.output


def test_config_check_says_whether_the_chroma_server_answers(chroma_url: str, tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{procs.free_port()}"
    up = CliRunner().invoke(app, ["config", "check", "--config", str(config_file(tmp_path, chroma_url))])
    down = CliRunner().invoke(app, ["config", "check", "--config", str(config_file(tmp_path, dead))])
    assert f"OK   chroma: {chroma_url} answers" in up.output
    assert f"FAIL chroma: {dead}: ConnectError" in down.output


@pytest.mark.parametrize(("url", "address"), [
    ("http://chroma:8000", ChromaAddress("chroma", 8000, False)),
    ("http://10.0.0.5", ChromaAddress("10.0.0.5", 8000, False)),
    ("https://chroma.example.com/", ChromaAddress("chroma.example.com", 443, True)),
    ("https://chroma.example.com:8443", ChromaAddress("chroma.example.com", 8443, True)),
])
def test_a_chroma_url_gives_host_port_and_tls(url: str, address: ChromaAddress) -> None:
    assert chroma_address(url) == address


@pytest.mark.parametrize("url", ["chroma:8000", "127.0.0.1:8000", "ftp://chroma", "http://chroma:8000/api/v2"])
def test_a_chroma_url_that_is_not_a_server_address_is_a_settings_error(url: str) -> None:
    with pytest.raises(ValidationError, match="is no Chroma server URL"):
        KnowledgeSettings(chroma_url=url)
