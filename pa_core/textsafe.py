"""The NUL rule: PostgreSQL cannot store U+0000, so both backends store U+FFFD in its place."""

from __future__ import annotations

from typing import Any

NUL = "\x00"
NUL_REPLACEMENT = "\ufffd"


def clean_text(value: str | None) -> str | None:
    """Replace every NUL character with U+FFFD (REPLACEMENT CHARACTER)."""
    if value is None or NUL not in value:
        return value
    return value.replace(NUL, NUL_REPLACEMENT)


def clean_json(value: Any) -> Any:
    """Apply `clean_text` to every string (keys and values) inside a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json(v) for v in value]
    return value
