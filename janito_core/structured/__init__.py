"""Structured output: ``output_schema=`` turned into a JSON Schema, and answers parsed back.

``output_spec`` builds what the harness sends (``ProviderRequest.output_schema``) and how it
reads the final answer (``GenerationResult.output``); ``transform`` holds the rewrites drivers
apply for their provider.
"""

from janito_core.structured.spec import OutputSpec, output_spec
from janito_core.structured.transform import (
    drop_keywords,
    inline_refs,
    is_object_schema,
    require_object,
    resolve_ref,
    strict_schema,
)

__all__ = [
    "OutputSpec",
    "drop_keywords",
    "inline_refs",
    "is_object_schema",
    "output_spec",
    "require_object",
    "resolve_ref",
    "strict_schema",
]
