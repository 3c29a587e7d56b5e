"""The configuration reference, read from the settings object itself: every key, its environment form, its
default and its description. docs/configuration.md is `markdown()` (a test keeps them equal), and `opsbot
config show` prints `effective(settings)`: the values in force, each secret masked.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from bot.settings import Settings
from policies.durations import spoken

ENV_PREFIX, ENV_NESTING = "OPSBOT_", "__"
MASK = "********"
_REPO = Path(__file__).resolve().parent.parent.parent


@dataclass(frozen=True)
class Key:
    path: str  # "redis.url"
    env: str  # "OPSBOT_REDIS__URL"
    type: str
    default: str
    description: str
    secret: bool


def _section(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _type_name(annotation: Any) -> str:
    if get_origin(annotation) in (Union, types.UnionType):
        named = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return " or ".join(named) + (", optional" if type(None) in get_args(annotation) else "")
    if get_origin(annotation) is Annotated:  # e.g. a duration: timedelta with its parser
        return _type_name(get_args(annotation)[0])
    if get_origin(annotation) is list:
        return f"list[{', '.join(_type_name(a) for a in get_args(annotation))}]"
    return "secret" if annotation is SecretStr else getattr(annotation, "__name__", str(annotation))


def _shown(value: Any) -> str:
    """A default as it would be written in YAML; paths inside the checkout are shown relative to it."""
    if value is None:
        return "unset"
    if isinstance(value, Path):
        return str(value.relative_to(_REPO)) if value.is_relative_to(_REPO) else str(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, timedelta):
        return _written(value)
    return str(value)


def _written(value: timedelta) -> str:
    """A duration as it is written in a settings file: '14d', '2h', '4m05s'."""
    return f"{value.days}d" if value.days and value == timedelta(days=value.days) else spoken(value)


def _default(f: FieldInfo) -> Any:
    if f.default_factory is not None:
        return f.default_factory()  # type: ignore[call-arg]
    return None if f.default is PydanticUndefined else f.default


def keys(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[Key]:
    for name, f in model.model_fields.items():
        section = _section(f.annotation)
        if section is not None:
            yield from keys(section, f"{prefix}{name}.")
            continue
        path = f"{prefix}{name}"
        yield Key(path=path, env=ENV_PREFIX + path.replace(".", ENV_NESTING).upper(), type=_type_name(f.annotation),
                  default=_shown(_default(f)), description=f.description or "",
                  secret="secret" in _type_name(f.annotation))


def markdown() -> str:
    out = ["# Configuration reference", "",
           "Generated from `bot/settings.py` by `opsbot config reference` (a test keeps this file equal to its",
           "output). Every key can be set in the YAML file (`--config FILE` or `OPSBOT_CONFIG`) under its section,",
           "or by its environment variable, which wins. Secrets are never printed: `opsbot config show` masks them.",
           "A list or mapping set from the environment is written as JSON:",
           "`OPSBOT_TELEGRAM__ALLOWED_CHAT_IDS='[1001, 1002]'`. A mistake is named by its file and line or its",
           "variable, with the nearest valid key, and never with its value.",
           ""]
    section = None
    for k in keys():
        head = k.path.split(".")[0] if "." in k.path else "top level"
        if head != section:
            section = head
            out += ["", f"## `{head}`" if head != "top level" else "## Top level", "",
                    "| key | environment | type | default | description |", "|---|---|---|---|---|"]
        out.append(f"| `{k.path}` | `{k.env}` | {k.type} | `{k.default}` | {k.description.replace('|', '/')} |")
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def effective(settings: Settings) -> dict[str, Any]:
    """The settings in force, as nested plain values (lists of sections such as `routes` too); a secret that is
    set shows as ********."""
    def plain(value: Any) -> Any:
        if isinstance(value, BaseModel):
            return {name: plain(getattr(value, name)) for name in type(value).model_fields}
        if isinstance(value, SecretStr):
            return MASK
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, timedelta):
            return _written(value)
        if isinstance(value, list | tuple | set | frozenset):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        return value
    return plain(settings)
