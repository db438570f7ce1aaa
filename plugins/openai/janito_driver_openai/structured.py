"""``output_schema=`` as OpenAI's native structured output, on each API.

``json_schema`` mode (OpenAI, and the compatible servers that take it): Chat sends
``response_format={"type": "json_schema", "json_schema": {name, schema, strict}}``, the
Responses API ``text={"format": {"type": "json_schema", name, schema, strict}}``. The schema
goes through ``strict_schema`` and ``strict`` is true: strict mode is what makes OpenAI hold the
answer to the schema, and it takes only closed objects whose properties are all required
(optional ones become nullable; ``default`` goes). A schema strict mode cannot express (an
object of arbitrary keys, ``dict[str, X]``) goes out as given with ``strict: false``: the model
is then guided rather than held, and the harness still checks the answer. OpenAI wants an object
at the top: anything else is refused at the call.

``json_object`` mode (servers without json_schema, DeepSeek): ``{"type": "json_object"}`` on
the wire and the schema written into the system prompt (Chat) or the instructions (Responses),
since the server cannot see it otherwise; DeepSeek also wants the word "JSON" in the prompt.

Either way a ``response_format`` (or ``text.format``) passed by hand as well is a conflict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from janito_core.driver import ProviderRequest
from janito_core.errors import InvalidRequestError
from janito_core.structured import require_object, strict_schema

__all__ = [
    "MODES",
    "chat_response_format",
    "check_format_options",
    "check_schema",
    "responses_text_format",
    "system_prompt_for",
]

#: What ``structured_output=`` may name.
MODES = ("json_schema", "json_object")


def check_schema(schema: Mapping[str, Any], *, driver: str) -> None:
    """Refuse (``InvalidRequestError``) a schema OpenAI cannot take: one without an object at
    the top (both modes answer with a JSON object)."""
    require_object(schema, driver=driver)


def check_format_options(options: Mapping[str, Any], *, driver: str) -> None:
    """Refuse an output format passed by hand next to ``output_schema``: one of them would be
    silently lost."""
    extra = options.get("extra_body")
    places = [options, extra] if isinstance(extra, Mapping) else [options]
    for place in places:
        text = place.get("text")
        if "response_format" in place or (isinstance(text, Mapping) and "format" in text):
            raise InvalidRequestError(
                f"the {driver} driver cannot take both output_schema and an output format "
                "option (response_format, text.format): output_schema sets it; pass one of them"
            )


def _json_schema(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    """name, schema and strict, as both APIs take them."""
    try:
        return {"name": name, "schema": strict_schema(schema), "strict": True}
    except InvalidRequestError:
        # An open-ended object: strict mode would refuse the request, a loose schema is taken.
        return {"name": name, "schema": dict(schema), "strict": False}


def chat_response_format(request: ProviderRequest, mode: str) -> dict[str, Any] | None:
    """``response_format`` for ``request``'s output schema (None without one)."""
    if request.output_schema is None:
        return None
    if mode == "json_object":
        return {"type": "json_object"}
    return {
        "type": "json_schema",
        "json_schema": _json_schema(request.output_schema, request.output_name),
    }


def responses_text_format(request: ProviderRequest, mode: str) -> dict[str, Any] | None:
    """``text.format`` for ``request``'s output schema (None without one)."""
    if request.output_schema is None:
        return None
    if mode == "json_object":
        return {"type": "json_object"}
    return {"type": "json_schema", **_json_schema(request.output_schema, request.output_name)}


def system_prompt_for(request: ProviderRequest, mode: str) -> str | None:
    """The system prompt ``request`` goes out with: its own, plus the schema in
    ``json_object`` mode (the only way the server learns it)."""
    if request.output_schema is None or mode != "json_object":
        return request.system_prompt
    schema = json.dumps(request.output_schema, ensure_ascii=False, sort_keys=True)
    instruction = f"Answer with a single JSON object that follows this JSON Schema:\n{schema}"
    return f"{request.system_prompt}\n\n{instruction}" if request.system_prompt else instruction
