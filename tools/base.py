"""What a tool is: a typed function with a described argument model, and the structured result it returns."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

if TYPE_CHECKING:
    from tools.context import ToolContext

# "opsbot": its own records (incidents, pending actions), read by the MCP server's views (bot/mcp/views.py);
# "mcp": a tool of another MCP server (bot/mcp/remote.py); "logs": the store settings logs.backend names
R = TypeVar("R")

Backend = Literal["prometheus", "alertmanager", "logs", "kubernetes", "knowledge", "opsbot", "mcp"]


class Status(StrEnum):
    success = "success"
    no_data = "no_data"
    error = "error"
    approval_required = "approval_required"
    denied = "denied"


class ToolResult(BaseModel):
    """Every tool answers with one of these; `invocation` is the one line a human reads."""

    tool: str
    status: Status
    invocation: str
    data: Any = None
    error: str | None = None
    notice: str | None = None
    truncated: bool = False


class Args(BaseModel):
    """Base of every tool's argument model: unknown arguments are an error the caller can fix."""

    model_config = ConfigDict(extra="forbid")


class ClusterArgs(Args):
    """The arguments of a tool that acts on one cluster (the Kubernetes tools, and the metrics and log tools, whose
    servers a cluster may name for itself): which cluster, of those the settings name."""

    cluster: str | None = Field(None, max_length=63, description="the cluster; default: the default one")

    @model_serializer(mode="wrap")
    def _cluster_when_named(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """No `cluster: null` in what is stored and shown: a call that names none reads as it always did."""
        data = handler(self)
        if data.get("cluster") is None:
            data.pop("cluster", None)
        return data


class ToolInputError(Exception):
    """The arguments are wrong in a way the caller (model or human) can fix: say exactly how."""


class BackendError(Exception):
    """A backend could not answer: which backend, at which URL, for what request, and why."""

    def __init__(self, backend: str, url: str, asked: str, reason: str):
        self.backend, self.url, self.asked, self.reason = backend, url, asked, reason
        super().__init__(f"could not reach {backend} at {url} for {asked}: {reason}")


class Preview(BaseModel):
    """What a mutating call would change, computed from the current state before anything runs."""

    target: str = Field(description="namespace/kind/name")
    namespace: str
    summary: str = Field(description="one line, e.g. 'scale shop/checkout 3 → 6 replicas'")
    current: dict[str, Any] = Field(default_factory=dict)
    proposed: dict[str, Any] = Field(default_factory=dict)
    pods_affected: list[str] = Field(default_factory=list)
    deployment: str | None = None
    replicas: tuple[int, int] | None = Field(None, description="(current, requested) when scaling")
    pinned: dict[str, Any] = Field(default_factory=dict, description="what the approvers are shown that the tool "
                                   "chose and must still hold at execution, e.g. the rollback's target revision")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[Args]
    fn: Callable[[ToolContext, Any], ToolResult]
    backend: Backend
    preview: Callable[[ToolContext, Any], Preview] | None = None

    @property
    def mutates(self) -> bool:
        return self.preview is not None

    def summary(self, args: Args) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in args.model_dump(exclude_defaults=True).items())
        return f"{self.name}({shown})"


def tool(
    backend: Backend, *, preview: Callable[[ToolContext, Any], Preview] | None = None
) -> Callable[[Callable[..., ToolResult]], Tool]:
    """Declare a tool: its name is the function's, its description the docstring, its args the annotation.

    A mutating tool names its `preview`: the door computes it, asks the policy, and runs the tool only
    once the decision allows it.
    """

    def wrap(fn: Callable[..., ToolResult]) -> Tool:
        params = list(inspect.signature(fn, eval_str=True).parameters.values())
        args_model = params[1].annotation
        doc = inspect.getdoc(fn)
        if not doc:
            raise TypeError(f"tool {fn.__name__} needs a docstring: it is the model's description")
        if "cluster" in args_model.model_fields:  # a tool runs, and previews, on the cluster it names (ClusterArgs)
            return Tool(fn.__name__, doc, args_model, on_cluster(fn), backend, preview and on_cluster(named(preview)))
        return Tool(fn.__name__, doc, args_model, fn, backend, preview)

    return wrap


def on_cluster(fn: Callable[[ToolContext, Any], R]) -> Callable[[ToolContext, Any], R]:
    """fn run with the context of the cluster its arguments name (`cluster`; None: the default one); an unknown
    cluster is the caller's mistake, said with the clusters there are."""

    def run(ctx: ToolContext, args: Any) -> R:
        try:
            there = ctx.on_cluster(args.cluster)
        except LookupError as e:
            raise ToolInputError(str(e)) from None
        return fn(there, args)

    return run


def named(preview: Callable[[ToolContext, Any], Preview]) -> Callable[[ToolContext, Any], Preview]:
    """The preview with its target led by the cluster's name when the settings name several clusters
    ('b/shop/Deployment/checkout'): the approvers, the audit and the cooldowns tell the clusters apart."""

    def run(ctx: ToolContext, args: Any) -> Preview:
        p = preview(ctx, args)
        k8s = ctx.settings.kubernetes
        if len(k8s.clusters) < 2:
            return p
        return p.model_copy(update={"target": f"{args.cluster or k8s.default}/{p.target}"})

    return run


def ok(t: str, invocation: str, data: Any, notice: str | None = None) -> ToolResult:
    return ToolResult(tool=t, status=Status.success, invocation=invocation, data=data, notice=notice)


def empty(t: str, invocation: str, searched: str) -> ToolResult:
    """An honest empty answer: says what was searched and where."""
    return ToolResult(tool=t, status=Status.no_data, invocation=invocation, data=None, notice=searched)
