"""Loading a YAML file into a strict pydantic model, with every error named by file, line and key path."""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's safe loader where PyYAML was built with it


class FileError(Exception):
    """A data file (policy, scenario, playbook) that cannot be used: the file, the lines and the reasons."""


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk the composed YAML tree along a validation error's location; the deepest node found gives the line."""
    found = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            key = next((k for k, _ in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                return found
            found, node = (key.start_mark.line + 1 if key is not None else found), match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            found = node.start_mark.line + 1
        else:
            return found
    return found


def parse(source: str, origin: str) -> Any:
    """The YAML document, read by libyaml (ten times faster: every command that builds the door reads the policy);
    a mistake is worded by PyYAML's own loader, as it always was."""
    try:
        return yaml.load(source, Loader=FAST_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        pass
    try:
        return yaml.safe_load(source)
    except yaml.YAMLError as e:
        raise FileError(f"{origin}: not valid YAML: {e}") from None


def load_model(model: type[M], source: str, origin: str, what: str) -> M:
    raw = parse(source, origin)
    if not isinstance(raw, dict):
        raise FileError(f"{origin}: {what} is a mapping of keys, not {type(raw).__name__}")
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        tree = yaml.compose(source)  # the lines, for the reasons only
        reasons = []
        for err in e.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            where = ".".join(str(p) for p in loc) or "(top level)"
            line = line_of(tree, loc)
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            reasons.append(f"  {origin}:{line or '?'}: {where}: {msg}")
        raise FileError(f"{origin}: invalid {what}:\n" + "\n".join(reasons)) from None
