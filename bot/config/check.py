"""`opsbot config check`: what the settings in force mean before anything runs: the policy and the playbooks
load, the combinations that switch an intake or a frontend off are named, and (unless offline) each backend
answers. Every finding is one line a person can act on; none prints a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from bot import messages
from bot.backends import Backends
from bot.config.am_receivers import receiver_problems
from bot.intake.webhooks.synthetic import am_alert, am_payload, encode
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


def intake_refusals(s: Settings) -> list[str]:
    """Settings with which the Alertmanager intake refuses every delivery (and Alertmanager, which retries only
    a 5xx, drops each one): no token and not open (403), or a body limit below the smallest delivery (413)."""
    w, out = s.webhooks, []
    if w.alertmanager_token is None and not w.alertmanager_open:
        out.append(messages.AM_INTAKE_REFUSES)
    smallest = len(encode(am_payload([am_alert({"alertname": "A"})])))
    if w.max_body_bytes < smallest:
        out.append(messages.AM_BODY_LIMIT.format(limit=w.max_body_bytes, smallest=smallest))
    return out


def _combinations(s: Settings) -> list[Finding]:
    """Settings that are valid one by one but leave something off, or cannot work together."""
    w = s.webhooks
    out = [Finding("warn", "webhooks", refusal) for refusal in intake_refusals(s)]
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
    if s.llm.base_url and not s.llm.model:
        out.append(Finding("fail", "llm", f"base_url {s.llm.base_url} without model: the model name is missing "
                           "(llm.model, as the server names it at its /models); no question would be answered"))
    if not s.llm.model and not s.llm.base_url:
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


def _logs(s: Settings, b: Backends, of: str = "") -> Finding:
    """The log store logs.backend names answers (the others are not used); `of`: the cluster it is one's own."""
    if s.logs.backend == "loki":
        return _reach(f"loki{of}", s.loki.url, lambda: b.loki.get("/ready").raise_for_status())
    if s.logs.backend == "opensearch":
        return _reach(f"opensearch{of}", s.opensearch.url, lambda: b.opensearch.info())
    return _reach(f"elasticsearch{of}", s.elasticsearch.url, lambda: b.elasticsearch.info())


def _prometheus(s: Settings, of: str = "") -> Finding:
    return _reach(f"prometheus{of}", s.prometheus.url, lambda: _ready(s.prometheus.url, s.prometheus.timeout_s))


def _alertmanager(s: Settings, of: str = "") -> Finding:
    return _reach(f"alertmanager{of}", s.alertmanager.url, lambda: _ready(s.alertmanager.url, s.alertmanager.timeout_s))


def _clusters_own(s: Settings, b: Backends) -> list[Finding]:
    """The Prometheus, Alertmanager and log store each cluster names for itself (not the install's again)."""
    out = []
    for name, cluster in s.kubernetes.clusters.items():
        own = cluster.own_servers()
        if not own:
            continue
        there = b.on_cluster(name)
        if "prometheus" in own:
            out.append(_prometheus(there.settings, f" {name}"))
        if "alertmanager" in own:
            out.append(_alertmanager(there.settings, f" {name}"))
        if own.keys() - {"prometheus", "alertmanager"}:
            out.append(_logs(there.settings, there, f" {name}"))
    return out


def _heartbeat(url: str) -> None:
    httpx.get(f"{url.rstrip('/')}/api/v2/heartbeat", timeout=5).raise_for_status()


def _model(s: Settings) -> Finding:
    """The model's endpoint answers its OpenAI-compatible /models with the key; the model is among those listed
    (a single-model server such as llama.cpp's answers to any name, so an unlisted one is a warning)."""
    where = f"{s.llm.base_url} (model {s.llm.model})"
    key = s.llm.api_key.get_secret_value() if s.llm.api_key else "unused"
    try:
        r = httpx.get(f"{str(s.llm.base_url).rstrip('/')}/models", headers={"Authorization": f"Bearer {key}"},
                      timeout=min(s.llm.timeout_s, 10))
        r.raise_for_status()
        listed = [m.get("id") for m in r.json().get("data", []) if isinstance(m, dict)]
    except Exception as e:  # any failure to answer is the finding itself
        return Finding("fail", "llm", f"{where}: {type(e).__name__}: {str(e)[:200]}")
    if listed and s.llm.model not in listed:
        return Finding("warn", "llm", f"{where}: the server lists {', '.join(map(str, listed[:5]))}, not "
                       f"{s.llm.model}; a single-model server may still answer to it")
    return Finding("ok", "llm", f"{where} answers")


def _kubernetes(s: Settings, b: Backends) -> list[Finding]:
    """The one cluster, or each of kubernetes.clusters by name: can opsbot list a namespace there?"""
    k8s = s.kubernetes
    if not k8s.clusters:
        return [_reach("kubernetes", str(k8s.kubeconfig or "in-cluster"),
                       lambda: b.core_v1.list_namespace(limit=1, _request_timeout=k8s.timeout_s))]
    return [_reach(f"kubernetes {name}", str(reach.kubeconfig or "in-cluster"),
                   lambda name=name: b.on_cluster(name).core_v1.list_namespace(limit=1, _request_timeout=k8s.timeout_s))
            for name, reach in k8s.clusters.items()]


def _backends(s: Settings) -> list[Finding]:
    b, chroma = Backends(s), s.knowledge.chroma_url
    return [
        _reach("redis", s.redis.url, lambda: redis_client(s).ping()),
        _prometheus(s),
        _alertmanager(s),
        _logs(s, b),
        *_kubernetes(s, b),
        *_clusters_own(s, b),
        *([_reach("chroma", chroma, lambda: _heartbeat(chroma))] if chroma else []),
        *([_model(s)] if s.llm.model and s.llm.base_url else []),
        *[Finding("warn", "alertmanager", problem) for problem in receiver_problems(s)],
    ]


def check(s: Settings, offline: bool = False) -> list[Finding]:
    if offline:
        model = ([Finding("ok", "llm", f"{s.llm.model} at {s.llm.base_url} (not contacted: --offline)")]
                 if s.llm.model and s.llm.base_url else [])
        return [*_files(s), *_combinations(s), *model]
    return [*_files(s), *_combinations(s), *_backends(s)]
