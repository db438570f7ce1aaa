"""The helpers the Gemini driver tests add to the kit's (``janito_core.testing``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from janito_core import events as ev
from janito_core.testing.cassettes import Cassette
from janito_core.usage import Usage

# The token counts of ``usageMetadata`` (it may also hold details, a service tier, a traffic
# type: no count among them).
COUNTS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "totalTokenCount",
    "cachedContentTokenCount",
    "toolUsePromptTokenCount",
)


def order(events: list[ev.Event]) -> list[tuple[str, str]]:
    """(kind, value) for the content, reasoning and tool events, in order."""
    out: list[tuple[str, str]] = []
    for e in events:
        if isinstance(e, ev.ContentPartFound):
            out.append(("text", e.content_part))
        elif isinstance(e, ev.ReasoningPartFound):
            out.append(("reasoning", e.reasoning_part))
        elif isinstance(e, ev.ToolCallStarted):
            out.append(("call", e.name))
        elif isinstance(e, ev.ToolCallFinished):
            out.append(("result", e.result))
        elif isinstance(e, ev.ToolCallError):
            out.append(("error", e.error))
    return out


def gemini_usage(metadata: Mapping[str, Any]) -> Usage:
    """``usageMetadata`` in neutral terms, every field said: the thinking counts as output, as
    it is billed, so input + output = total; tool-use prompt tokens are input; the total is
    Gemini's own; Gemini reports no cache writes."""
    thoughts = metadata.get("thoughtsTokenCount", 0)
    return Usage(
        input_tokens=metadata.get("promptTokenCount", 0)
        + metadata.get("toolUsePromptTokenCount", 0),
        output_tokens=metadata.get("candidatesTokenCount", 0) + thoughts,
        total_tokens=metadata["totalTokenCount"],
        cached_input_tokens=metadata.get("cachedContentTokenCount", 0),
        reasoning_tokens=thoughts,
        cache_write_tokens=0,
        missing=False,
    )


def recorded_chunks(cassette: Cassette) -> list[dict[str, Any]]:
    """The ``GenerateContentResponse`` chunks a recording holds, streamed or whole."""
    if cassette.is_event_stream:
        return [json.loads(data) for _, data in cassette.sse_data()]
    document = json.loads(cassette.body)
    return document if isinstance(document, list) else [document]


def recorded_usages(cassette: Cassette) -> list[dict[str, Any]]:
    """Every ``usageMetadata`` of a recording that holds a token count, in order."""
    out = []
    for chunk in recorded_chunks(cassette):
        metadata = chunk.get("usageMetadata")
        if isinstance(metadata, dict) and any(key in metadata for key in COUNTS):
            out.append(metadata)
    return out


def recorded_usage(cassette: Cassette) -> Usage | None:
    """The usage of a recording: each chunk's is a running total, so the last one."""
    usages = recorded_usages(cassette)
    return gemini_usage(usages[-1]) if usages else None
