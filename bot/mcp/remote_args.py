"""A remote MCP tool's arguments as opsbot's Args: checked against the input schema its server declared (JSON
Schema), so a wrong call is answered by the door in words and never reaches the server."""

from __future__ import annotations

from typing import Any

import jsonschema
from pydantic import ConfigDict, model_validator

from tools.base import Args


def args_model(name: str, schema: dict[str, Any]) -> type[Args]:
    """An Args class for one remote tool: any key its schema allows, validated by that schema."""
    checker = jsonschema.Draft202012Validator(schema)

    class Remote(Args):
        model_config = ConfigDict(extra="allow")

        @model_validator(mode="before")
        @classmethod
        def _by_schema(cls, data: Any) -> Any:
            problems = sorted(checker.iter_errors(data), key=lambda e: list(e.path))
            if problems:
                raise ValueError("; ".join(f"{'.'.join(str(p) for p in e.path) or 'arguments'}: {e.message}"
                                           for e in problems))
            return data

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return schema

    Remote.__name__ = Remote.__qualname__ = f"{name}_args"
    return Remote
