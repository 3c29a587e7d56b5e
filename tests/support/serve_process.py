"""`opsbot serve` as a real subprocess on the sandbox's settings: its config file, start, readiness, stop."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bot.intake.webhooks.synthetic import encode
from bot.polling import poll
from sandbox import procs
from sandbox.manager import Sandbox

OPSBOT = str(Path(sys.executable).parent / "opsbot")
TOKEN = "tok"


@dataclass
class Served:
    base: str
    proc: subprocess.Popen
    output: str = ""


def config_file(sandbox: Sandbox, path: Path, prefix: str, **sections: dict[str, Any]) -> tuple[Path, int]:
    """The sandbox's settings on a free webhook port and the Redis key `prefix`, with `sections` merged in."""
    port = procs.free_port()
    data = yaml.safe_load(sandbox.settings_file.read_text())
    data["redis"]["key_prefix"] = prefix
    data["webhooks"] = {**data.get("webhooks", {}), "host": "127.0.0.1", "port": port, "alertmanager_token": TOKEN}
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    path.write_text(yaml.safe_dump(data))
    return path, port


def _ready(base: str) -> bool | None:
    try:
        return httpx.get(f"{base}/readyz", timeout=2).status_code == 200 or None
    except httpx.HTTPError:
        return None


@contextmanager
def serving(config: Path, port: int, *args: str) -> Iterator[Served]:
    """`opsbot serve ARGS --config CONFIG` until the block ends (SIGTERM); its output is kept on the result."""
    proc = subprocess.Popen([OPSBOT, "serve", *args, "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    served = Served(f"http://127.0.0.1:{port}", proc)
    try:
        up = poll(lambda: _ready(served.base) or proc.poll() is not None or None, 60, interval_s=0.2)
        if not up or proc.poll() is not None:
            proc.terminate()
            raise AssertionError(f"the webhooks did not come up:\n{proc.communicate(timeout=60)[0]}")
        yield served
    finally:
        proc.terminate()
        served.output, _ = proc.communicate(timeout=60)


def post_alerts(base: str, payload: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{base}/webhooks/alertmanager", content=encode(payload),
                      headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}, timeout=10)
