"""Settings that do not load, explained: each mistake named by its file and line or its environment variable,
with the nearest valid key for a typo, and never the value (it may be a credential)."""

from __future__ import annotations

import difflib
import json
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from policies.yamlfile import line_of

PREFIX = "OPSBOT_"


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel] | None:
    """The section model a key path leads to (list items are walked through), or None past a plain value."""
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        nested = _section(field.annotation)
        if nested is None:
            return None
        model = nested
    return model


def _section(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        if (found := _section(arg)) is not None:
            return found
    return None


def _is_collection(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, dict, tuple, set) or annotation in (list, dict):
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_is_collection(a) for a in typing.get_args(annotation))
    return _section(annotation) is not None


def env_name(path: tuple[Any, ...]) -> str:
    return PREFIX + "__".join(str(p) for p in path if not isinstance(p, int)).upper()


def _env_source(path: tuple[Any, ...], environ: Mapping[str, str]) -> str | None:
    """The environment variable that set this key (or the list or section holding it)."""
    for end in range(len(path), 0, -1):
        name = env_name(path[:end])
        if name in environ:
            return name
    return None


def _did_you_mean(settings_cls: type[BaseModel], path: tuple[Any, ...], env: bool) -> str:
    parent = _model_at(settings_cls, path[:-1])
    if parent is None or not isinstance(path[-1], str):
        return ""
    near = difflib.get_close_matches(path[-1], list(parent.model_fields), n=1, cutoff=0.6)
    if not near:
        return f"; valid keys here: {', '.join(parent.model_fields)}"
    return f"; did you mean {env_name((*path[:-1], near[0])) if env else near[0]}?"


def _reason(err: Mapping[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    return str(err["msg"]).removeprefix("Value error, ")


def explain(error: Exception, settings_cls: type[BaseModel], yaml_file: Path | None,
            environ: Mapping[str, str]) -> str:
    """One line per mistake: where it is (FILE:LINE or the variable), which key, what is wrong."""
    if isinstance(error, ValidationError):
        tree = _tree(yaml_file)
        lines = []
        for err in error.errors():
            path = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            key = ".".join(str(p) for p in path) or "(settings)"
            var = _env_source(path, environ) if path else None
            if var is not None:
                where = var
            elif yaml_file is not None:
                where = f"{yaml_file}:{line_of(tree, path) or '?'}"
            else:
                where = "settings"
            hint = _did_you_mean(settings_cls, path, var is not None) if err["type"] == "extra_forbidden" else ""
            lines.append(f"  {where}: {key}: {_reason(err)}{hint}")
        return "invalid settings:\n" + "\n".join(lines)
    if isinstance(error, yaml.YAMLError):
        return f"{yaml_file}: not valid YAML: {error}"
    unparsable = _unparsable_env(settings_cls, environ)
    if unparsable:
        return "invalid settings:\n" + "\n".join(
            f"  {name}: a list or mapping setting; from the environment it is written as JSON, "
            f"e.g. {example}" for name, example in unparsable)
    return f"invalid settings: {error}"


def _tree(yaml_file: Path | None) -> yaml.Node | None:
    if yaml_file is None:
        return None
    try:
        return yaml.compose(yaml_file.read_text())
    except (OSError, yaml.YAMLError):
        return None


def _unparsable_env(settings_cls: type[BaseModel], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    """OPSBOT_ variables whose key holds a list or a mapping but whose value is not JSON."""
    out = []
    for name, value in sorted(environ.items()):
        if not name.startswith(PREFIX):
            continue
        path = tuple(name[len(PREFIX):].lower().split("__"))
        parent = _model_at(settings_cls, path[:-1])
        field = parent.model_fields.get(path[-1]) if parent is not None else None
        if field is None or not _is_collection(field.annotation):
            continue
        try:
            json.loads(value)
        except ValueError:
            example = '{"key": "value"}' if typing.get_origin(field.annotation) is dict else '["a", "b"] or [1001, 1002]'
            out.append((name, example))
    return out
