"""The sandbox's Kubernetes: start our API emulator, write a kubeconfig for it, load a scenario's cluster."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from sandbox import procs
from sandbox.scenario import Scenario

NAME = "kubernetes"
LOADER = "loader"  # on the real control plane, the emulator that loads scenarios runs in this subfolder
_ROOT = Path(__file__).resolve().parent.parent


def kubeconfig_path(state_dir: Path) -> Path:
    return state_dir / "kubeconfig.yaml"


def _token_path(state_dir: Path) -> Path:
    return state_dir / "kubernetes.token"


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def _headers(state_dir: Path) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token_path(state_dir).read_text().strip()}"}


def start(state_dir: Path, port: int) -> None:
    """Launch the emulator with a fresh random token, wait until it answers, write the kubeconfig."""
    token = secrets.token_urlsafe(24)
    token_file = _token_path(state_dir)
    token_file.write_text(token)
    token_file.chmod(0o600)
    pythonpath = os.pathsep.join(p for p in (str(_ROOT), os.environ.get("PYTHONPATH", "")) if p)
    # --token=VALUE: a token_urlsafe token may start with "-", which argparse would read as an option
    argv = [sys.executable, "-m", "sandbox.k8s_emulator", "--port", str(port), f"--token={token}"]
    pid = procs.start(NAME, argv, state_dir, env={"PYTHONPATH": pythonpath})

    def ready() -> bool:
        try:
            return httpx.get(f"{_url(port)}/version", headers=_headers(state_dir), timeout=0.5).status_code == 200
        except httpx.HTTPError:
            return False

    procs.wait_until(NAME, ready, pid, state_dir)
    write_kubeconfig(kubeconfig_path(state_dir), _url(port), token)


def write_kubeconfig(path: Path, server: str, token: str, certificate_authority: Path | None = None) -> None:
    """A kubeconfig for `server` presenting `token`; an https server's certificate is checked against the CA file."""
    cluster: dict[str, Any] = {"server": server}
    if certificate_authority is not None:
        cluster["certificate-authority"] = str(certificate_authority)
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "opsbot-sandbox", "preferences": {},
        "clusters": [{"name": "opsbot-sandbox", "cluster": cluster}],
        "users": [{"name": "opsbot-sandbox", "user": {"token": token}}],
        "contexts": [{"name": "opsbot-sandbox",
                      "context": {"cluster": "opsbot-sandbox", "user": "opsbot-sandbox", "namespace": "default"}}],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


def load(state_dir: Path, port: int, scenario: Scenario, t0: float) -> None:
    """Reset the emulated cluster to the scenario; its times are offsets from t0 (epoch seconds)."""
    body = {"t0": t0, "scenario": scenario.model_dump(mode="json", by_alias=True)}
    try:
        r = httpx.post(f"{_url(port)}/_sandbox/load", json=body, headers=_headers(state_dir), timeout=10)
    except httpx.HTTPError as e:
        raise procs.SandboxError(f"{NAME}: could not load scenario {scenario.name!r}: {e}\n"
                                 f"{procs.tail_log(NAME, state_dir)}") from None
    if r.status_code != 200:
        raise procs.SandboxError(f"{NAME}: loading scenario {scenario.name!r} failed ({r.status_code}): "
                                 f"{r.json().get('message', r.text)}")


def enforce_rbac(state_dir: Path, port: int, rules: list[dict[str, Any]] | None) -> None:
    """Make the emulator refuse (403) every request these RBAC rules do not allow; None lifts it."""
    r = httpx.post(f"{_url(port)}/_sandbox/rbac", json={"rules": rules}, headers=_headers(state_dir), timeout=10)
    r.raise_for_status()
