"""The policy file's schema (docs/policy.md): severities, tiers, roles, members, rules and guard rails."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from policies.durations import parse_duration
from policies.yamlfile import load_model

Tier = Literal["T0", "T1", "T2", "T3", "T4"]
Severity = Literal["P0", "P1", "P2", "P3", "INFO"]
TIERS: tuple[Tier, ...] = ("T0", "T1", "T2", "T3", "T4")


def _duration(value: object) -> object:
    """'15m' style durations; ISO 8601 ('PT15M', as stored in JSON) and numbers go on to pydantic."""
    if not isinstance(value, str) or value.startswith("P"):
        return value
    return parse_duration(value)  # a DurationError is a ValueError: pydantic reports it with the key


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Identity = Annotated[str, Field(pattern=r"^(slack|telegram|cli|opsbot):[A-Za-z0-9_.@-]+$")]
DEFAULT_POLICY = Path(__file__).parent / "default.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Severities(_Strict):
    order: list[Severity]
    alertmanager: dict[str, Severity]
    sentry: dict[str, Severity]
    default: Severity = "P3"


class Role(_Strict):
    propose_up_to: Tier = "T0"
    approve_up_to: Tier | None = None


class When(_Strict):
    tier: list[Tier] | None = None
    severity: list[Severity] | None = None
    namespace: list[str] | None = None
    tool: list[str] | None = Field(None, description="the actions (tool names) the rule applies to")
    failure_mode: list[str] | None = Field(None, description="the failure modes (playbook names) triage diagnosed; "
                                           "a request with no diagnosed mode (chat, the model) never matches")
    cluster: list[str] | None = Field(None, description="the clusters (settings kubernetes.clusters) the action "
                                      "acts on; a request to the default cluster is named by the default's name")


class Mentions(_Strict):
    """Whom a line in a card's thread mentions, per platform."""

    slack: str | None = Field(None, pattern=r"^(<(!subteam\^[A-Z0-9]+|@[A-Z0-9]+)>\s*)+$",
                              description="Slack mentions: a user group <!subteam^S0123> or people <@U0123>")
    telegram: str | None = Field(None, pattern=r"^(@[A-Za-z0-9_]{5,32}\s*)+$", description="Telegram @handles")

    @model_validator(mode="after")
    def _someone(self) -> Mentions:
        if not self.slack and not self.telegram:
            raise ValueError("names nobody: give `slack` (<!subteam^ID> or <@ID>) or `telegram` (@handle)")
        return self


class Remind(Mentions):
    """Whom a pending action's card thread mentions once, `before` its expiry, while nobody has decided it."""

    before: Duration = Field(timedelta(minutes=5), description="how long before the expiry the reminder is posted")


class Approvers(_Strict):
    roles: list[str] = Field(min_length=1)
    count: int = Field(1, ge=1, le=5, description="distinct approvers needed")
    self_approval: bool = False
    expires: Duration = timedelta(minutes=15)
    remind: Remind | None = Field(None, description="whom to remind in the card's thread before it expires")
    escalate: Mentions | None = Field(None, description="whom the card's thread tells when it expired unanswered")

    @model_validator(mode="after")
    def _remind_before_expiry(self) -> Approvers:
        if self.remind and self.remind.before >= self.expires:
            raise ValueError(f"remind.before ({self.remind.before}) must be shorter than expires ({self.expires})")
        return self


class TrackRecord(_Strict):
    """What a failure mode's action must have earned, in verified outcomes (knowledge/outcomes.py), before a rule
    runs it without asking."""

    min_verified: int = Field(ge=1, description="verified outcomes of this action for this failure mode")
    min_success: float = Field(gt=0, le=1, description="the share of them verified as fixed, e.g. 0.9")
    no_failure_within: Duration = Field(timedelta(hours=24), description="no verified failure this recently")


class Rule(_Strict):
    when: When = When()
    decide: Literal["allow", "approve", "deny"]
    approvers: Approvers | None = Field(None, description="with decide: approve; with a track_record, whom it asks "
                                        "when the record does not allow (shadow, paused, not earned)")
    track_record: TrackRecord | None = Field(None, description="decide: allow only when it is earned (see docs)")
    mode: Literal["shadow", "enforce"] | None = Field(None, description="of a track-record rule: shadow (the "
                                                      "default) still asks and says it would have run it")
    reason: str

    @property
    def earned(self) -> bool:
        """Whether this rule allows by a track record (automatic only when it holds; see policies/engine.py)."""
        return self.track_record is not None

    @model_validator(mode="after")
    def _approvers_iff_asking(self) -> Rule:
        if (self.decide == "approve" or self.earned) != (self.approvers is not None):
            raise ValueError("`approvers` is required with decide: approve and with a track_record, and only then")
        return self

    @model_validator(mode="after")
    def _earned_only_named(self) -> Rule:
        """A rule that runs an action by itself names the failure mode, the action and the namespaces, and never
        applies at P0 (the engine refuses it there too, whatever the file says)."""
        if self.mode is not None and not self.earned:
            raise ValueError("`mode` belongs to a rule with a track_record")
        if not self.earned:
            return self
        if self.decide != "allow":
            raise ValueError("a track_record goes with decide: allow")
        w = self.when
        for key in ("failure_mode", "tool", "namespace"):
            if not getattr(w, key):
                raise ValueError(f"a rule with a track_record must name when.{key}: it allows only a named action "
                                 "for a named failure mode in named namespaces")
        if not w.severity or "P0" in w.severity:
            raise ValueError("a rule with a track_record must list when.severity without P0: "
                             "opsbot never runs an action at P0 without a person's approval")
        return self


class Bounds(_Strict):
    min: int = Field(0, ge=0)
    max: int = Field(ge=0, le=1000)
    max_step: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Replicas(_Strict):
    default: Bounds
    namespaces: dict[str, Bounds] = Field(default_factory=dict)
    deployments: dict[Annotated[str, Field(pattern=r"^[a-z0-9-]+/[a-z0-9-]+$")], Bounds] = Field(
        default_factory=dict, description="namespace/deployment"
    )


class Budgets(_Strict):
    per_tool: dict[str, int] = Field(default_factory=dict)
    per_target: int = Field(4, ge=1)


class Freeze(_Strict):
    start: datetime
    end: datetime
    reason: str
    except_severities: list[Severity] = Field(default_factory=list)


class Guards(_Strict):
    protected_namespaces: list[str] = Field(default_factory=list)
    replicas: Replicas
    cooldowns: dict[str, Duration] = Field(default_factory=dict, description="per tool; key `default`")
    budgets_per_hour: Budgets = Budgets()
    freezes: list[Freeze] = Field(default_factory=list)


class Silences(_Strict):
    """Who may acknowledge, silence and unsilence alerts, for how long, and what is never silenced. A policy
    without this section lets nobody silence."""

    roles: list[str] = Field(default_factory=list, description="roles that may acknowledge, silence, unsilence")
    max: Duration = Field(timedelta(hours=4), description="the longest silence; 'until resolved' is at most this")
    never: list[dict[str, str]] = Field(default_factory=list,
                                        description="label sets (every label must match) never silenced")
    never_severities: list[Severity] = Field(default_factory=list, description="severities never silenced")


class Cli(_Strict):
    """What the command line (identities `cli:…`, from the setting cli.identity) may decide. A policy without
    this section lets it approve like any member."""

    may_approve: bool = Field(True, description="false: only the cards' buttons approve or deny others' actions")


class Verify(_Strict):
    """How long opsbot watches the target and the incident's alert after it executed an action, and how often it
    looks (bot/guard/verify.py)."""

    window: Duration = Field(timedelta(minutes=10), description="after this, a target still unhealthy or an alert "
                             "still firing is 'not fixed'")
    every: Duration = Field(timedelta(seconds=30), description="how often the target is read meanwhile")

    @model_validator(mode="after")
    def _positive(self) -> Verify:
        if self.window <= timedelta(0) or self.every <= timedelta(0):
            raise ValueError("verify.window and verify.every must be longer than zero")
        return self


class Policy(_Strict):
    severities: Severities
    tools: dict[str, Tier]
    roles: dict[str, Role]
    members: Annotated[dict[Identity, list[str]], BeforeValidator(lambda v: {} if v is None else v)] = Field(
        default_factory=dict, description="identity → roles; empty (every entry commented out): nobody approves")
    rules: list[Rule] = Field(min_length=1)
    guards: Guards
    silences: Silences = Silences()
    cli: Cli = Cli()
    verify: Verify = Verify()

    @model_validator(mode="after")
    def _roles_exist(self) -> Policy:
        named = [(f"members.{who}", r) for who, rs in self.members.items() for r in rs]
        named += [(f"rules.{i}.approvers", r) for i, rule in enumerate(self.rules) if rule.approvers
                  for r in rule.approvers.roles]
        named += [("silences.roles", r) for r in self.silences.roles]
        for where, role in named:
            if role not in self.roles:
                raise ValueError(f"{where} names role {role!r}, which is not defined in roles")
        return self


def load_policy(path: Path = DEFAULT_POLICY) -> Policy:
    """Parse and validate a policy file; a broken one raises FileError with file, line and reason."""
    return load_model(Policy, path.read_text(), str(path), "policy")
