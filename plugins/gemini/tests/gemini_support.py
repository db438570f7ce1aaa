"""The one helper the Gemini driver tests add to the kit's (``janito_core.testing``)."""

from __future__ import annotations

from janito_core import events as ev


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
