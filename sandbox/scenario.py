"""The scenario file format (a public contract, see docs/scenarios.md), validated strictly.

Every time in a scenario is an offset from the moment it is loaded: "-10m" is ten minutes before, "0s" the
load itself. Unknown keys are rejected with the path to the offending key.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policies.durations import parse_duration
from policies.yamlfile import FileError, load_model

SCENARIO_DIR = Path(__file__).parent / "scenarios"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


class ScenarioError(FileError):
    """A scenario file that cannot be used, with the file and every reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Offset = Annotated[str, Field(pattern=r"^-?\d+(\.\d+)?[smhdw]$", description="offset from load, e.g. -5m")]
Name = Annotated[str, Field(pattern=_DNS_LABEL.pattern, max_length=63)]


class Termination(_Strict):
    reason: str = Field(description="e.g. Error, OOMKilled, Completed")
    exit_code: int = 1
    message: str = ""


class PodState(_Strict):
    """How a pod of a revision looks: phase, readiness, the container's state and its history."""

    phase: Literal["Pending", "Running", "Succeeded", "Failed"] = "Running"
    ready: bool = True
    state: Literal["running", "waiting", "terminated"] = "running"
    reason: str | None = Field(None, description="waiting/terminated reason, e.g. CrashLoopBackOff")
    message: str | None = None
    restarts: int = Field(0, ge=0)
    last_termination: Termination | None = None
    unschedulable: str | None = Field(None, description="PodScheduled=False message for Pending pods")
    logs: list[str] = Field(default_factory=list, description="current container's log lines")
    previous_logs: list[str] = Field(default_factory=list, description="previous container's log lines")


class Revision(_Strict):
    image: str
    env: dict[str, str] = Field(default_factory=dict)
    memory_limit: str | None = None
    change_cause: str | None = None
    created: Offset = "-7d"
    pods: PodState = PodState()


class Deployment(_Strict):
    name: Name
    namespace: Name
    replicas: int = Field(1, ge=0, le=50)
    labels: dict[str, str] = Field(default_factory=dict, description="pod labels; app=<name> by default")
    revisions: list[Revision] = Field(min_length=1, description="oldest first; the last one is live")


class Event(_Strict):
    kind: Literal["Pod", "Deployment", "Node"] = "Pod"
    name: str = Field(description="the object's name; for pods, the deployment whose pods it concerns")
    namespace: Name
    type: Literal["Normal", "Warning"] = "Warning"
    reason: str
    message: str
    count: int = Field(1, ge=1)
    last_seen: Offset = "-1m"


class Cluster(_Strict):
    namespaces: list[Name] = Field(min_length=1)
    deployments: list[Deployment] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_namespaces(self) -> Cluster:
        for what in [*self.deployments, *self.events]:
            if what.namespace not in self.namespaces:
                raise ValueError(f"{what.name!r} is in namespace {what.namespace!r}, not listed in namespaces")
        return self


class Repeat(_Strict):
    count: int = Field(ge=1, le=5000)
    every: Offset


class LogDocument(_Strict):
    at: Offset
    service: str
    namespace: Name
    level: Literal["debug", "info", "warn", "error", "fatal"] = "info"
    message: str
    pod: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)
    repeat: Repeat | None = Field(None, description="emit count copies, every apart, going back from `at`")


class Logs(_Strict):
    index: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")] = "logs-sandbox"
    documents: list[LogDocument] = Field(default_factory=list)


class Constant(_Strict):
    constant: float


class RampArgs(_Strict):
    start_value: float = Field(alias="from")
    end_value: float = Field(alias="to")
    start: Offset
    end: Offset = "0s"


class Ramp(_Strict):
    ramp: RampArgs


class SpikeArgs(_Strict):
    peak: float = Field(description="added at the spike's height")
    at: Offset
    width: Offset = "5m"
    hold: bool = Field(False, description="stay at the peak after the window instead of returning")


class Spike(_Strict):
    spike: SpikeArgs


class NoiseArgs(_Strict):
    amplitude: float = Field(ge=0)
    seed: int = 0


class Noise(_Strict):
    noise: NoiseArgs


Component = Constant | Ramp | Spike | Noise


class Recovery(_Strict):
    """How the series looks once the incident is fixed in the emulated cluster: the deployment's live
    revision changed (a restart or a rollback) and all its replicas are available."""

    deployment: Name = Field(description="in the namespace of the series' `namespace` label")
    value: float = Field(description="a gauge then holds this value; a counter grows at this rate per second")


class Series(_Strict):
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


class Metrics(_Strict):
    history: Offset = "2h"
    step: Offset = "15s"
    series: list[Series] = Field(default_factory=list)


class AlertRule(_Strict):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")]
    expr: str
    for_: Offset = Field("0s", alias="for")
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class ExpectedAction(_Strict):
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class Expect(_Strict):
    evidence: list[str] = Field(default_factory=list, description="strings a good triage must surface")
    actions: list[ExpectedAction] = Field(default_factory=list, description="actions it should propose")
    playbook: str | None = None


class Scenario(_Strict):
    name: Name
    title: str
    description: str = ""
    cluster: Cluster
    logs: Logs = Logs()
    metrics: Metrics = Metrics()
    alerts: list[AlertRule] = Field(default_factory=list)
    expect: Expect = Expect()


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
