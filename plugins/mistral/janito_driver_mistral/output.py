"""``output_schema=`` → Mistral's ``response_format``, in strict mode.

``{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}`` (the SDK's
``JSONSchema`` model; its ``schema_definition`` field goes out as ``schema``). With ``strict``,
Mistral constrains decoding to the schema. The schema is sent through
``janito_core.structured.strict_schema``: every object closed (``additionalProperties: false``,
which is all the SDK's own strict helper does) and every property required, an optional one
made nullable, ``default`` dropped: the shape OpenAI's strict mode takes too. ``$ref``/``$defs``
stay (the SDK sends pydantic's schemas with them).

Refused at the call: a schema whose top is not an object (Mistral tells the model "Your output
should be an instance of a JSON object following this schema"), and an object of arbitrary keys
(``dict[str, T]``), which a closed object cannot describe: the SDK's helper would close it into an
object that can only be empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from janito_core.structured import require_object, strict_schema

__all__ = ["check_schema", "response_format"]


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise ``InvalidRequestError`` for a schema Mistral cannot take (see the module)."""
    require_object(schema, driver="mistral")
    strict_schema(schema)


def response_format(schema: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The ``response_format`` asking for ``schema`` (one ``check_schema`` took)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": strict_schema(schema), "strict": True},
    }
