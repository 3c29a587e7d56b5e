"""Playbooks: markdown runbooks with a strict YAML front matter saying when they apply and what to run.

```
---
name: crashloopbackoff            # lowercase-dashed, unique
title: Pods crash-loop (CrashLoopBackOff)
alerts: [KubePodCrashLooping]     # Alertmanager alert names this playbook answers
labels: {}                        # label matchers, values are regular expressions (full match)
signals: [CrashLoopBackOff]       # exact words (pod states, termination reasons) that point here
symptoms: ["pods restart again and again"]
diagnosis:                        # read tool calls, run in order; args may use placeholders
  - {tool: k8s_list, args: {namespace: "{namespace}", deployment: "{deployment}"}}
remediation:                      # proposed actions, never run by the playbook itself
  - {tool: k8s_rollback, args: {namespace: "{namespace}", deployment: "{deployment}"}, when: "..."}
recommended: k8s_rollback         # the remediation tool proposed first
---
Runbook text.
```
Placeholders are `{namespace}`, `{service}`, `{deployment}` and `{pod}`, filled from alert labels; other
braces (PromQL label matchers) are left alone. Errors name the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.yamlfile import FileError, load_model

PLACEHOLDERS = ("namespace", "service", "deployment", "pod")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _placeholders_in(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_placeholders_in(v) for v in value)) if value else set()
    return set()


class Step(_Strict):
    """One tool call of a playbook: a diagnosis read, or a proposed remediation."""

    tool: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    args: dict[str, Any] = Field(default_factory=dict)
    why: str | None = Field(None, description="what this step shows, for the reader")

    @field_validator("args")
    @classmethod
    def _known_placeholders(cls, args: dict[str, Any]) -> dict[str, Any]:
        unknown = _placeholders_in(args) - set(PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholder {', '.join('{' + u + '}' for u in sorted(unknown))}; "
                             f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return args

    @property
    def needs(self) -> set[str]:
        return _placeholders_in(self.args)

    def fill(self, values: Mapping[str, str]) -> dict[str, Any]:
        """The args with placeholders replaced; KeyError names a placeholder without a value."""
        def sub(v: Any) -> Any:
            if isinstance(v, str):
                return _PLACEHOLDER.sub(lambda m: values[m.group(1)], v)
            if isinstance(v, dict):
                return {k: sub(x) for k, x in v.items()}
            if isinstance(v, list):
                return [sub(x) for x in v]
            return v
        return sub(self.args)

    def render(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.tool}({shown})"


class Action(Step):
    when: str = Field(min_length=3, description="when this action is the right one")


class Playbook(_Strict):
    name: str = Field(pattern=_NAME, max_length=63)
    title: str = Field(min_length=3, max_length=120)
    alerts: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="label → regular expression (full match)")
    signals: list[str] = Field(default_factory=list)
    symptoms: list[str] = Field(default_factory=list)
    diagnosis: list[Step] = Field(min_length=1)
    remediation: list[Action] = Field(default_factory=list)
    recommended: str | None = None
    fallback: bool = Field(False, description="used only when nothing else matches (general health check)")
    body: str = ""

    @field_validator("labels")
    @classmethod
    def _regexes(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, pattern in labels.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"label {key}: {pattern!r} is not a regular expression: {e}") from None
        return labels

    @model_validator(mode="after")
    def _recommended_is_a_remediation(self) -> Playbook:
        tools = [a.tool for a in self.remediation]
        if self.recommended is not None and self.recommended not in tools:
            raise ValueError(f"recommended {self.recommended!r} is not one of the remediation tools: "
                             f"{', '.join(tools) or 'none'}")
        return self

    def labels_match(self, labels: Mapping[str, str]) -> bool:
        return all(re.fullmatch(p, labels.get(k, "")) for k, p in self.labels.items())

    def recommended_action(self) -> Action | None:
        return next((a for a in self.remediation if a.tool == self.recommended), None)

    def search_text(self) -> str:
        """What the vector index embeds: the title, the alerts, the symptoms and the runbook's start."""
        parts = [self.title, " ".join(self.alerts), " ".join(self.signals), ". ".join(self.symptoms), self.body]
        return "\n".join(p for p in parts if p)


def split_front_matter(text: str, origin: str) -> tuple[str, str]:
    """(front matter YAML, body); the YAML keeps its line numbers relative to the file."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise FileError(f"{origin}:1: a playbook starts with '---' and a YAML front matter")
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            # a blank first line keeps YAML line N equal to file line N (the file's line 1 is '---')
            return "\n" + "".join(lines[1:i]), "".join(lines[i + 1:]).strip()
    raise FileError(f"{origin}: the front matter is not closed by a '---' line")


def parse(text: str, origin: str) -> Playbook:
    front, body = split_front_matter(text, origin)
    pb = load_model(Playbook, front, origin, "playbook")
    if pb.body:
        raise FileError(f"{origin}: 'body' is the markdown after the front matter, not a key")
    return pb.model_copy(update={"body": body})


def check_tools(pb: Playbook, tools: Mapping[str, Any], origin: str) -> None:
    """Every step names a known tool whose argument model accepts the args (placeholders filled)."""
    sample = {p: "x" for p in PLACEHOLDERS}
    problems = []
    for section, steps in (("diagnosis", pb.diagnosis), ("remediation", pb.remediation)):
        for i, step in enumerate(steps):
            t = tools.get(step.tool)
            if t is None:
                problems.append(f"{section}.{i}: no tool {step.tool!r}")
                continue
            try:
                t.args.model_validate(step.fill(sample))
            except ValidationError as e:
                problems.append(f"{section}.{i}: {step.tool}: " + "; ".join(_short(x) for x in e.errors()))
            if section == "diagnosis" and t.mutates:
                problems.append(f"diagnosis.{i}: {step.tool} changes the cluster; put it under remediation")
    if problems:
        raise FileError(f"{origin}: invalid playbook:\n" + "\n".join(f"  {origin}: {p}" for p in problems))


def _short(err: dict[str, Any]) -> str:
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def load_dir(folder: Path, tools: Mapping[str, Any] | None = None) -> list[Playbook]:
    """Every `*.md` in `folder`, validated (and checked against `tools` if given); names must be unique."""
    if not folder.is_dir():
        raise FileError(f"{folder}: not a folder of playbooks")
    found: dict[str, Path] = {}
    out = []
    for path in sorted(folder.glob("*.md")):
        pb = parse(path.read_text(encoding="utf-8"), str(path))
        if tools is not None:
            check_tools(pb, tools, str(path))
        if pb.name in found:
            raise FileError(f"{path}: playbook name {pb.name!r} is also used by {found[pb.name]}")
        found[pb.name] = path
        out.append(pb)
    if not out:
        raise FileError(f"{folder}: no playbooks (*.md) in this folder")
    return out
