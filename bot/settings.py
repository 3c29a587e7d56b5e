"""The one settings object: built once at start-up (env prefix OPSBOT_, optional YAML file), passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from bot.cards.routing import Route
from knowledge.settings import KnowledgeSettings
from policies.schema import DEFAULT_POLICY, Duration, Identity, Tier
from tools.settings import (
    AlertmanagerSettings,
    ElasticsearchSettings,
    KubernetesSettings,
    LimitSettings,
    LogsSettings,
    LokiSettings,
    OpenSearchSettings,
    PrometheusSettings,
    Section,
)


class RedisSettings(Section):
    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL without credentials; rediss:// for TLS "
                     "(a managed Redis), with ?ssl_ca_certs=FILE when its certificate is not from a public CA")
    password: SecretStr | None = Field(None, description="Redis AUTH password")
    key_prefix: str = Field("opsbot:",
        description="prefix of every key opsbot writes (several installs can share one Redis)")
    timeout_s: float = Field(2.0, description="seconds a Redis command may take")
    sentinels: list[str] = Field(default_factory=list, description="Redis Sentinel addresses, host:port; set: "
                                 "opsbot asks them for the primary of `sentinel_master` and follows a failover "
                                 "(the url's host is then unused; its scheme, db and options still apply, "
                                 "rediss:// to the sentinels too)")
    sentinel_master: str = Field("mymaster", description="the name the sentinels monitor the primary under")
    sentinel_password: SecretStr | None = Field(None, description="the sentinels' own AUTH password, if any")
    wait_replicas: int = Field(0, ge=0, le=10, description="replicas that must hold an alert before the webhook "
                               "answers 2xx (Redis WAIT), else 503 and the sender retries; 0: the primary's write is "
                               "enough (an alert acknowledged just before a failover may be lost)")
    wait_timeout_s: float = Field(0.5, gt=0, description="how long the webhook waits for `wait_replicas`")

    @field_validator("sentinels")
    @classmethod
    def _host_port(cls, sentinels: list[str]) -> list[str]:
        for address in sentinels:
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"a sentinel is host:port, not {address!r}")
        return sentinels

    @model_validator(mode="after")
    def _wait_fits_the_timeout(self) -> RedisSettings:
        if self.wait_replicas and self.wait_timeout_s >= self.timeout_s:
            raise ValueError("redis.wait_timeout_s must be shorter than redis.timeout_s (else the socket gives up "
                             "first)")
        return self

    def sentinel_addresses(self) -> list[tuple[str, int]]:
        return [(host.strip("[]"), int(port)) for host, _, port in (a.rpartition(":") for a in self.sentinels)]


class LLMSettings(Section):
    """Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server). No model: `model` unset."""

    base_url: str | None = Field(None, description="the OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1")
    model: str | None = Field(None, description="the model name; unset: no model, triage and commands still work")
    api_key: SecretStr | None = Field(None, description="the endpoint's API key")
    timeout_s: float = Field(90.0, gt=0, description="seconds one model call may take (a CPU server's first, "
                             "uncached call of a question can take a minute)")
    deadline_s: float = Field(150.0, gt=0, description="seconds one question may take, model calls and tools "
                              "together; then opsbot answers from its evidence")
    max_tokens: int = Field(600, ge=16, le=16384, description="the longest reply of one model call, in tokens")
    max_calls_per_reply: int = Field(3, ge=1, le=20, description="tool calls run from one model reply; the "
                                     "model is told about the rest")
    max_steps: int = Field(4, ge=1, le=20, description="tool-calling rounds before a forced final answer")
    temperature: float = Field(0.0, description="sampling temperature of every model call")
    max_retries: int = Field(1, ge=0, le=5, description="retries of a model call that failed to connect, or "
                             "with HTTP 5xx or 429, while the question's deadline allows (never of a timeout)")


class MemorySettings(Section):
    max_messages: int = Field(20, ge=2, description="messages kept per chat thread")
    ttl_s: int = Field(86400, ge=60, description="a thread's memory expires after this long idle")


class WebhookSettings(Section):
    host: str = Field("127.0.0.1", description="address the webhook server listens on (0.0.0.0 in a container)")
    port: int = Field(8080, description="port of /webhooks/alertmanager, /webhooks/sentry, /healthz, /readyz, /metrics")
    alertmanager_token: SecretStr | None = Field(None, description="bearer token Alertmanager must send")
    alertmanager_open: bool = Field(False, description="accept Alertmanager posts without a bearer token "
                                    "(a loopback sandbox); without a token and without this, they are refused")
    sentry_client_secret: SecretStr | None = Field(None, description="verifies Sentry-Hook-Signature")
    max_body_bytes: int = Field(1_000_000,
        description="a webhook body larger than this is refused (413) while it is read")
    dedup_window_s: int = Field(3600, description="alerts with one fingerprint within this long are one incident")
    flap_threshold: int = Field(3, description="firing↔resolved changes within the window that count as flapping")
    replay_window_s: int = Field(300, ge=1, description="a delivery seen again within this long is a replay; "
                                 "Sentry-Hook-Timestamp may be at most this old")


class IntakeSettings(Section):
    """The durable alert stream and the triage workers that read it."""

    workers: int = Field(2, ge=1, le=64, description="triage worker threads in `opsbot serve`")
    reclaim_idle_s: float = Field(60.0, ge=0, description="an entry pending this long on a dead worker is reclaimed")
    max_attempts: int = Field(5, ge=1, description="deliveries of one entry before it goes to the dead-letter stream")
    stream_maxlen: int = Field(100_000, ge=1000, description="approximate cap on the alert stream's length")
    analyse_timeout_s: float = Field(20.0, gt=0, description="how long a card waits for the model's analysis; "
                                     "a later one edits the card when it arrives")
    analyse_late_s: float = Field(180.0, gt=0, description="the model's analysis is dropped after this long (a CPU "
                                  "server may need minutes for triage's evidence)")
    cards: Literal["group", "alert"] = Field("group", description="group: one card per Alertmanager group, its "
                                             "alerts as lines (the first one triaged); alert: a card per alert")
    graphs: bool = Field(True, description="a new card of an alert with a PromQL expression gets a PNG of it over "
                         "the last hour, threshold dashed: in the card's Slack thread (the app needs files:write) "
                         "and as a Telegram reply to the card")
    heartbeats: list[str] = Field(["Watchdog", "InfoInhibitor", "DeadMansSwitch"], description="alert names "
                                  "that only prove the alerting pipeline works: they open no incident and post "
                                  "no card; their last arrival is the metric opsbot_heartbeat_timestamp_seconds")


class SentrySettings(Section):
    base_url: str = Field("https://sentry.io", description="Sentry's base URL (self-hosted: your own)")
    token: SecretStr | None = Field(None,
        description="internal integration token with event:write, for the analysis comment")
    timeout_s: float = Field(10.0, description="seconds a Sentry API call may take")
    retries: int = Field(3, description="attempts of a failed Sentry comment")


class ChatSettings(Section):
    namespaces: list[str] = Field(["default"], description="where chat commands look for a bare deployment name")
    questions_per_user_per_hour: int = Field(30, ge=0, description="model questions one person may ask in an "
                                             "hour, across replicas (0: no limit); commands are not counted")
    questions_per_channel_per_hour: int = Field(120, ge=0, description="model questions one channel or chat may "
                                                "ask in an hour (0: no limit)")


class SlackSettings(Section):
    """Slack: Socket Mode needs the app token (xapp-); HTTP events need the signing secret."""

    bot_token: SecretStr | None = Field(None, description="xoxb- bot token")
    app_token: SecretStr | None = Field(None, description="xapp- app-level token, for Socket Mode")
    signing_secret: SecretStr | None = Field(None, description="verifies HTTP events (X-Slack-Signature)")
    alert_channel: str | None = Field(None, description="channel id where alert cards are posted")
    api_base_url: str = Field("https://slack.com/api/", description="Web API base URL (a local fake in tests)")
    host: str = Field("127.0.0.1", description="address the HTTP events endpoint listens on")
    port: int = Field(3000, description="port of the HTTP events endpoint (`opsbot serve-slack --http`)")
    thread_replies: bool = Field(True, description="answer a person's plain reply (no mention) in a thread opsbot "
                                 "started or answered in; false: only mentions, DMs and /opsbot")


class TelegramSettings(Section):
    """Telegram: long polling, or a webhook whose secret token header is checked."""

    bot_token: SecretStr | None = Field(None, description="the token BotFather gave the bot")
    allowed_chat_ids: list[int] = Field(default_factory=list, description="chats opsbot answers in; others are "
                                        "told once that they are not allowed, then ignored")
    webhook_secret: SecretStr | None = Field(None, description="X-Telegram-Bot-Api-Secret-Token to expect")
    webhook_url: str | None = Field(None, description="public URL Telegram posts updates to (webhook mode)")
    alert_chat_id: int | None = Field(None, description="chat where alert cards are posted")
    base_url: str = Field("https://api.telegram.org/bot", description="Bot API base URL (a local fake in tests)")
    host: str = Field("127.0.0.1", description="address the webhook endpoint listens on")
    port: int = Field(8443, description="port of the webhook endpoint")


class ReportSettings(Section):
    """The outcome report (`opsbot report`), posted on a schedule by the served process."""

    every: Duration | None = Field(None, description="post the report of the period just ended this often, e.g. "
                                   "'7d' (at each multiple of it since the epoch, once across replicas); unset: never")
    slack_channel: str | None = Field(None, description="Slack channel id it is posted to (default "
                                      "slack.alert_channel)")
    telegram_chat_id: int | None = Field(None, description="Telegram chat it is posted to (default "
                                         "telegram.alert_chat_id)")


class CliSettings(Section):
    """Who the command line is. There is no flag for it: the identity is whoever holds this configuration."""

    identity: str | None = Field(None, pattern=r"^cli:[A-Za-z0-9_.@-]+$", description="the identity `opsbot action "
                                 "approve/deny`, `opsbot tool`, `ask` and `chat` act as, cli:NAME (the policy's "
                                 "members name it); unset: cli:<the OS user running opsbot>. The policy's "
                                 "cli.may_approve: false refuses every approval from the command line")


class McpToken(Section):
    """One person's bearer token for `opsbot mcp --http`, and the identity whose policy roles it carries."""

    identity: Identity = Field(description="who calls with this token: the person's chat identity (slack:U…, "
                               "telegram:…) or cli:NAME, as the policy's members name it")
    token: SecretStr = Field(min_length=16, description="the bearer token (at least 16 characters)")

    @field_validator("identity")
    @classmethod
    def _a_person(cls, identity: str) -> str:
        if identity.startswith("opsbot:"):
            raise ValueError("opsbot's own identities are not people: name the person who holds the token")
        return identity


class McpServer(Section):
    """An MCP server whose tools join opsbot's toolset through the door (docs/mcp.md, "opsbot as an MCP client")."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,15}$", description="short name; its tools are named NAME_TOOL")
    command: list[str] | None = Field(None, description="start it and talk over stdio, e.g. [mcp-grafana]")
    env: dict[str, SecretStr] = Field(default_factory=dict, description="environment of `command` beyond the SDK's "
                                      "safe few (PATH, HOME…), e.g. its API token")
    url: str | None = Field(None, description="or its streamable HTTP endpoint, e.g. https://mcp.example/mcp")
    token: SecretStr | None = Field(None, description="bearer token sent to `url`")
    tools: dict[str, Tier] = Field(default_factory=dict, description="the allow-list: each tool opsbot may call, "
                                   "and its tier (T0: reads; T1-T3: changes, which wait for an approval); the "
                                   "policy must list NAME_TOOL with the same tier, or it does not join")
    timeout_s: float = Field(30.0, gt=0, description="seconds one call (with starting the server) may take")

    @model_validator(mode="after")
    def _one_way_in(self) -> McpServer:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"mcp server {self.name}: give either `command` or `url`")
        return self


class McpSettings(Section):
    """`opsbot mcp`: opsbot's tools to MCP clients (IDE and desktop assistants), through the door (docs/mcp.md)."""

    identity: str | None = Field(None, pattern=r"^(slack|telegram|cli):[A-Za-z0-9_.@-]+$", description="who "
                                 "a stdio client acts as (the person who starts it); unset: the command line's "
                                 "identity (cli.identity, else cli:<the OS user>)")
    tokens: list[McpToken] = Field(default_factory=list, description="streamable HTTP: one bearer token per person, "
                                   "each {identity, token}; a request without a listed token is answered 401")
    host: str = Field("127.0.0.1", description="address `opsbot mcp --http` listens on")
    port: int = Field(8765, description="port of `opsbot mcp --http` (the endpoint is /mcp)")
    servers: list[McpServer] = Field(default_factory=list, description="MCP servers whose allowed tools opsbot "
                                     "calls, through the door, as its own (docs/mcp.md)")

    @field_validator("tokens")
    @classmethod
    def _distinct(cls, tokens: list[McpToken]) -> list[McpToken]:
        if len({t.token.get_secret_value() for t in tokens}) != len(tokens):
            raise ValueError("two people share one token: give each person their own")
        return tokens


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="OPSBOT_", env_nested_delimiter="__", extra="forbid", yaml_file=None
    )

    redis: RedisSettings = RedisSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    logs: LogsSettings = LogsSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    opensearch: OpenSearchSettings = OpenSearchSettings()
    loki: LokiSettings = LokiSettings()
    kubernetes: KubernetesSettings = KubernetesSettings()
    limits: LimitSettings = LimitSettings()
    llm: LLMSettings = LLMSettings()
    chat: ChatSettings = ChatSettings()
    memory: MemorySettings = MemorySettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    webhooks: WebhookSettings = WebhookSettings()
    sentry: SentrySettings = SentrySettings()
    intake: IntakeSettings = IntakeSettings()
    slack: SlackSettings = SlackSettings()
    telegram: TelegramSettings = TelegramSettings()
    cli: CliSettings = CliSettings()
    report: ReportSettings = ReportSettings()
    mcp: McpSettings = McpSettings()
    routes: list[Route] = Field(default_factory=list, description="where alert cards go, by namespace, team label "
                                "and severity: the first matching route wins; unmatched cards go to "
                                "slack.alert_channel and telegram.alert_chat_id")
    policy_file: Path = Field(DEFAULT_POLICY, description="the policy YAML: who may request and approve what "
                              "(docs/policy.md). The shipped policies/default.yaml names no approver, so every "
                              "action that needs an approval is refused until you point this at your own")
    autonomy_paused: bool = Field(False, description="true: every action a policy rule would run without a "
                                  "person's approval (a track record or a plain decide: allow) asks a person "
                                  "instead, as after `opsbot policy pause`")

    @model_validator(mode="after")
    def _routed_chats_are_served(self) -> Settings:
        allowed = self.telegram.allowed_chat_ids
        for i, route in enumerate(self.routes):
            if route.telegram_chat_id is not None and allowed and route.telegram_chat_id not in allowed:
                raise ValueError(f"routes.{i} posts to Telegram chat {route.telegram_chat_id}, which is not in "
                                 "telegram.allowed_chat_ids: opsbot would refuse every button pressed there")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings]
        yaml_file = settings_cls.model_config.get("yaml_file")
        if yaml_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


def load_settings(yaml_file: Path | None = None) -> Settings:
    """Build the settings once: environment variables win over the YAML file, which wins over defaults."""
    if yaml_file is None:
        return Settings()
    if not yaml_file.is_file():
        raise FileNotFoundError(f"settings file {yaml_file} does not exist")

    class _FromFile(Settings):
        model_config = SettingsConfigDict(**{**Settings.model_config, "yaml_file": str(yaml_file)})

    return _FromFile()
