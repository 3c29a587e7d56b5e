"""`opsbot config check`: what the settings in force mean before anything runs: the policy and the playbooks
load, the combinations that switch an intake or a frontend off are named, and (unless offline) each backend
answers. Every finding is one line a person can act on; none prints a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from bot.backends import Backends
from bot.settings import Settings
from bot.wiring import redis_client
from knowledge.playbooks import load_dir
from policies.schema import load_policy
from tools.catalog import tool_map

Level = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Finding:
    level: Level
    what: str
    detail: str

    def line(self) -> str:
        return f"{self.level.upper():<4} {self.what}: {self.detail}"


def _files(s: Settings) -> list[Finding]:
    out = []
    try:
        policy = load_policy(s.policy_file)
        out.append(Finding("ok", "policy", f"{s.policy_file}: {len(policy.tools)} tools tiered, "
                           f"{len(policy.rules)} rules"))
    except Exception as e:  # a broken file is named with its line by the loader
        out.append(Finding("fail", "policy", str(e)))
    try:
        playbooks = load_dir(s.knowledge.playbooks_dir, tool_map())
        out.append(Finding("ok", "playbooks", f"{len(playbooks)} in {s.knowledge.playbooks_dir}"))
    except Exception as e:
        out.append(Finding("fail", "playbooks", str(e)))
    return out


def _combinations(s: Settings) -> list[Finding]:
    """Settings that are valid one by one but leave something off, or cannot work together."""
    w, out = s.webhooks, []
    if w.alertmanager_token is None and not w.alertmanager_open:
        out.append(Finding("warn", "webhooks", "no alertmanager_token and alertmanager_open is false: "
                           "Alertmanager's posts are refused (401)"))
    if w.alertmanager_open and w.host not in ("127.0.0.1", "localhost", "::1"):
        out.append(Finding("warn", "webhooks", f"alertmanager_open on {w.host}: anyone who reaches the port "
                           "can post alerts; set alertmanager_token"))
    if w.sentry_client_secret is None:
        out.append(Finding("warn", "webhooks", "no sentry_client_secret: the Sentry intake is off"))
    if s.sentry.token is None:
        out.append(Finding("warn", "sentry", "no token: the analysis is not written back to Sentry issues"))
    if s.slack.bot_token and not (s.slack.app_token or s.slack.signing_secret):
        out.append(Finding("fail", "slack", "bot_token without app_token (Socket Mode) or signing_secret "
                           "(HTTP events): opsbot cannot receive Slack events"))
    if s.slack.bot_token and not s.slack.alert_channel:
        out.append(Finding("warn", "slack", "no alert_channel: alert cards are not posted to Slack"))
    if s.telegram.webhook_url and s.telegram.webhook_secret is None:
        out.append(Finding("fail", "telegram", "webhook_url without webhook_secret: updates could not be told "
                           "from forgeries"))
    if s.telegram.bot_token and not s.telegram.allowed_chat_ids:
        out.append(Finding("warn", "telegram", "no allowed_chat_ids: the bot answers in no chat"))
    if s.llm.model and not s.llm.base_url:
        out.append(Finding("fail", "llm", "model without base_url: no endpoint to call"))
    if not s.llm.model:
        out.append(Finding("ok", "llm", "no model: triage and commands work without one; questions are not answered"))
    return out


def _reach(what: str, where: str, probe: Callable[[], object]) -> Finding:
    try:
        probe()
    except Exception as e:  # any failure to answer is the finding itself
        return Finding("fail", what, f"{where}: {type(e).__name__}: {str(e)[:200]}")
    return Finding("ok", what, f"{where} answers")


def _ready(url: str, timeout: float) -> None:
    httpx.get(f"{url.rstrip('/')}/-/ready", timeout=timeout).raise_for_status()


def _heartbeat(url: str) -> None:
    httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=5).raise_for_status()


def _backends(s: Settings) -> list[Finding]:
    b, chroma = Backends(s), s.knowledge.chroma_url
    return [
        _reach("redis", s.redis.url, lambda: redis_client(s).ping()),
        _reach("prometheus", s.prometheus.url, lambda: _ready(s.prometheus.url, s.prometheus.timeout_s)),
        _reach("alertmanager", s.alertmanager.url, lambda: _ready(s.alertmanager.url, s.alertmanager.timeout_s)),
        _reach("elasticsearch", s.elasticsearch.url, lambda: b.elasticsearch.info()),
        _reach("kubernetes", str(s.kubernetes.kubeconfig or "in-cluster"),
               lambda: b.core_v1.list_namespace(limit=1, _request_timeout=s.kubernetes.timeout_s)),
        *([_reach("chroma", chroma, lambda: _heartbeat(chroma))] if chroma else []),
    ]


def check(s: Settings, offline: bool = False) -> list[Finding]:
    return [*_files(s), *_combinations(s), *([] if offline else _backends(s))]
