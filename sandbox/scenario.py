"""The scenario file format (a public contract, see docs/scenarios.md), validated strictly.

Every time in a scenario is an offset from the moment it is loaded: "-10m" is ten minutes before, "0s" the
load itself. Unknown keys are rejected with the path to the offending key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, field_validator, model_validator

from policies.durations import parse_duration
from policies.yamlfile import FileError, load_model
from sandbox.scenario_cluster import Cluster, Level, Name, Offset, Strict

SCENARIO_DIR = Path(__file__).parent / "scenarios"


class ScenarioError(FileError):
    """A scenario file that cannot be used, with the file and every reason."""


class Repeat(Strict):
    count: int = Field(ge=1, le=5000)
    every: Offset


class LogDocument(Strict):
    at: Offset
    service: str
    namespace: Name
    level: Level = "info"
    message: str
    pod: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    repeat: Repeat | None = Field(None, description="emit count copies, every apart, going back from `at`")


class Logs(Strict):
    index: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")] = "logs-sandbox"
    documents: list[LogDocument] = Field(default_factory=list)


class Constant(Strict):
    constant: float


class RampArgs(Strict):
    start_value: float = Field(alias="from")
    end_value: float = Field(alias="to")
    start: Offset
    end: Offset = "0s"


class Ramp(Strict):
    ramp: RampArgs


class SpikeArgs(Strict):
    peak: float = Field(description="added at the spike's height")
    at: Offset
    width: Offset = "5m"
    hold: bool = Field(False, description="stay at the peak after the window instead of returning")


class Spike(Strict):
    spike: SpikeArgs


class NoiseArgs(Strict):
    amplitude: float = Field(ge=0)
    seed: int = 0


class Noise(Strict):
    noise: NoiseArgs


Component = Constant | Ramp | Spike | Noise


class Recovery(Strict):
    """How the series looks once the incident is fixed in the emulated cluster: the deployment's live
    revision changed (a restart or a rollback) and all its replicas are available; or, with `replicas_at_most`,
    it was scaled back to at most that many replicas (all available)."""

    deployment: Name = Field(description="in the namespace of the series' `namespace` label")
    value: float = Field(description="a gauge then holds this value; a counter grows at this rate per second")
    replicas_at_most: int | None = Field(None, ge=0, description="recovered by a scale back to at most this many "
                                         "replicas (what the extra replicas held is freed), not by a new revision")


class Series(Strict):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    type: Literal["gauge", "counter"] = Field(
        "gauge", description="for a counter the signal is its rate per second, integrated over time"
    )
    help: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    signal: list[Component] = Field(min_length=1, description="components summed into the value")
    recovery: Recovery | None = None

    @model_validator(mode="after")
    def _recovery_has_a_namespace(self) -> Series:
        if self.recovery and "namespace" not in self.labels:
            raise ValueError("a series with `recovery` needs a `namespace` label")
        return self

    @field_validator("labels")
    @classmethod
    def _label_names(cls, v: dict[str, str]) -> dict[str, str]:
        for k in v:
            if not re.match(r"^[a-zA-Z_][a-zA-Z0-9_]*$", k) or k.startswith("__"):
                raise ValueError(f"{k!r} is not a valid Prometheus label name")
        return v


class Metrics(Strict):
    history: Offset = "2h"
    step: Offset = "15s"
    series: list[Series] = Field(default_factory=list)


class AlertRule(Strict):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
    expr: str
    for_: Offset = Field("0s", alias="for")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class SentryEvent(Strict):
    """A Sentry issue alert (`event_alert`) the scenario delivers to opsbot's Sentry webhook, signed."""

    title: str = Field(min_length=1, description="the issue's title, e.g. 'OperationalError: connection refused'")
    culprit: str = ""
    level: Literal["fatal", "error", "warning", "info", "debug"] = "error"
    issue_id: Annotated[str, Field(pattern=r"^[0-9]+$")] = "4711"
    project: str = Field("", description="the Sentry project's slug")
    triggered_rule: str = "A new issue is created"
    tags: dict[str, str] = Field(default_factory=dict, description="the event's tags: environment, release, "
                                 "server_name (a pod's name), namespace, transaction…")


class ExpectedAction(Strict):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Expect(Strict):
    evidence: list[str] = Field(default_factory=list, description="strings a good triage must surface")
    actions: list[ExpectedAction] = Field(default_factory=list, description="actions it should propose")
    playbook: str | None = None
    diagnosis: list[str] = Field(default_factory=list, description="strings the card's one-line diagnosis (and "
                                 "the source line it quotes) must hold: the object that holds the cause, the "
                                 "mechanism; a scenario whose cause triage cannot know expects 'not found'")


class Clock(Strict):
    now: AwareDatetime = Field(description="an absolute instant with its zone, e.g. 2026-03-14T09:26:00Z")


BackendName = Literal["prometheus", "alertmanager", "elasticsearch", "kubernetes"]


class Scenario(Strict):
    name: Name
    title: str
    description: str = ""
    cluster: Cluster
    logs: Logs = Logs()
    metrics: Metrics = Metrics()
    alerts: list[AlertRule] = Field(default_factory=list)
    sentry: list[SentryEvent] = Field(default_factory=list, description="Sentry issue alerts delivered to opsbot")
    expect: Expect = Expect()
    clock: Clock | None = Field(None, description="pin the scenario's now: every offset counts from this instant")
    unreachable: list[BackendName] = Field(default_factory=list, description="backends opsbot is pointed at "
                                           "but cannot reach, to exercise the honest 'could not check' path")

    def t0(self, wall: float) -> float:
        """The instant every offset counts from: the pinned clock, else the load's wall-clock time."""
        return self.clock.now.timestamp() if self.clock else wall


def offset(value: str) -> timedelta:
    """A validated scenario offset as a timedelta."""
    return parse_duration(value)


def parse(source: str, origin: str = "<scenario>") -> Scenario:
    try:
        return load_model(Scenario, source, origin, "scenario")
    except FileError as e:
        raise ScenarioError(str(e)) from None


def load(name_or_path: str) -> Scenario:
    """Load a shipped scenario by name, or any scenario file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        path = SCENARIO_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml")))
        raise ScenarioError(f"no scenario {name_or_path!r}; shipped scenarios: {shipped}")
    return parse(path.read_text(), str(path))


def shipped() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.yaml"))
