"""A config dict as TOML text: tomllib only reads. For the labs, benchmarks and tests that hand
the real CLI a config file."""

from __future__ import annotations

import json
from typing import Any


def toml_text(data: dict[str, Any], _prefix: str = "") -> str:
    """A config dict as TOML (tomllib only reads): tables, arrays of tables, scalars, lists of
    scalars; None values are left out, as TOML has no null."""

    def scalar(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, list):
            return "[" + ", ".join(scalar(v) for v in value) + "]"
        return json.dumps(str(value))  # a JSON string is a valid TOML basic string

    lines: list[str] = []
    nested: list[str] = []
    for key, value in data.items():
        name = f"{_prefix}{key}"
        if value is None:
            continue
        if isinstance(value, dict):
            nested.append(f"\n[{name}]\n" + toml_text(value, f"{name}."))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested.extend(f"\n[[{name}]]\n" + toml_text(v, f"{name}.") for v in value)
        else:
            lines.append(f"{key} = {scalar(value)}\n")
    return "".join(lines) + "".join(nested)
