"""A first day's mistakes end in one sentence, not a traceback: a settings typo names its file, line and the key
meant; a list from the environment says it is JSON; a broken policy stops `serve` and `chat` with its file and
line; a question while Redis is down says so and offers the commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot import messages

OPSBOT = str(Path(sys.executable).parent / "opsbot")


def run(*args: str, env: dict[str, str] | None = None, stdin: str = "", config: Path | None = None
        ) -> subprocess.CompletedProcess[str]:
    full = [OPSBOT, *args] + (["--config", str(config)] if config else [])
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPSBOT_")}
    return subprocess.run(full, input=stdin, capture_output=True, text=True, timeout=120, env={**base, **(env or {})})


def test_a_typo_in_the_settings_file_names_file_line_and_the_key_meant(tmp_path: Path) -> None:
    config = tmp_path / "opsbot.yaml"
    config.write_text("prometheus:\n  url: http://127.0.0.1:9090\nllm:\n  api_kye: sk-proj-TYPOEDSECRET1234567890abcd\n")
    done = run("config", "show", config=config)
    assert done.returncode == 2
    assert f"{config}:4: llm.api_kye: unknown key; did you mean api_key?" in done.stderr
    assert "Traceback" not in done.stderr and "TYPOEDSECRET" not in done.stderr + done.stdout
    assert "errors.pydantic.dev" not in done.stderr


def test_a_typo_in_an_environment_variable_names_the_variable_meant(tmp_path: Path) -> None:
    done = run("config", "show", env={"OPSBOT_PROMETHEUS__URLL": "http://127.0.0.1:9090"})
    assert done.returncode == 2
    assert "OPSBOT_PROMETHEUS__URLL: prometheus.urll: unknown key; did you mean OPSBOT_PROMETHEUS__URL?" in done.stderr


def test_a_list_from_the_environment_says_it_is_written_as_json() -> None:
    done = run("config", "show", env={"OPSBOT_TELEGRAM__ALLOWED_CHAT_IDS": "1001,1002"})
    assert done.returncode == 2
    assert "OPSBOT_TELEGRAM__ALLOWED_CHAT_IDS: a list or mapping setting; from the environment it is written as JSON" \
        in done.stderr
    assert run("config", "show", env={"OPSBOT_TELEGRAM__ALLOWED_CHAT_IDS": "[1001, 1002]"}).returncode == 0


def test_a_broken_policy_stops_serve_and_chat_with_its_file_and_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(Path("policies/default.yaml").read_text().replace("  k8s_scale: T2\n", "  k8s_scale: T9\n"))
    config = tmp_path / "opsbot.yaml"
    config.write_text(f"policy_file: {policy}\nredis:\n  url: redis://127.0.0.1:1/0\n")
    line = 1 + Path("policies/default.yaml").read_text().splitlines().index("  k8s_scale: T2")
    for command in (["chat"], ["serve", "--port", "0"]):
        done = run(*command, config=config)
        assert done.returncode == 2, done.stderr
        assert f"opsbot: {policy}: invalid policy:" in done.stderr.splitlines()
        assert f"{policy}:{line}: tools.k8s_scale:" in done.stderr
        assert "Traceback" not in done.stderr and "╭" not in done.stderr


def test_a_question_while_redis_is_down_says_so_and_offers_the_commands(tmp_path: Path) -> None:
    config = tmp_path / "opsbot.yaml"
    config.write_text("redis:\n  url: redis://127.0.0.1:1/0\nllm:\n  base_url: http://127.0.0.1:1/v1\n  model: m\n")
    done = run("chat", "--script", "-", stdin="why is checkout failing?\n", config=config)
    assert done.returncode == 0, done.stderr
    assert messages.QUESTION_WITHOUT_REDIS in done.stdout
    assert "something went wrong" not in done.stdout and "Traceback" not in done.stdout + done.stderr
