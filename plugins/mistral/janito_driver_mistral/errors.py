"""Reading Mistral's error bodies into one short line a user can act on.

Mistral answers errors in several shapes, all seen in the wild:
``{"message": "Unauthorized", "request_id": "..."}``, ``{"detail": "Unauthorized"}``,
``{"object": "error", "message": "Rate limit exceeded", "type": "rate_limited", ...}`` and, for
validation, ``{"object": "error", "message": {"detail": [{"loc": [...], "msg": ...}]}, ...}``
or FastAPI's bare ``{"detail": [...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["body_detail"]

_MAX_DETAIL = 500


def body_detail(body: str | None) -> str:
    """The useful part of an error body: its message, type and code, or what was invalid."""
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return _clip(" ".join(body.split()))
    if not isinstance(data, Mapping):
        return _clip(json.dumps(data))
    text = _message(data.get("message")) or _message(data.get("detail"))
    labels = [
        f"{key} {data[key]}" for key in ("type", "code") if isinstance(data.get(key), (str, int))
    ]
    if labels:
        text = f"{text} [{', '.join(labels)}]" if text else ", ".join(labels)
    return _clip(text or json.dumps(data))


def _message(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return _message(value.get("detail")) or _message(value.get("message"))
    if isinstance(value, list):
        return "; ".join(filter(None, (_problem(item) for item in value)))
    return ""


def _problem(item: Any) -> str:
    """One FastAPI validation problem: ``where: what``."""
    if not isinstance(item, Mapping):
        return str(item)
    where = ".".join(str(part) for part in item.get("loc") or () if part != "body")
    what = str(item.get("msg") or item.get("type") or "invalid")
    return f"{where}: {what}" if where else what


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."
