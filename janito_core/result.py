"""``GenerationResult``: a whole generation summed up, for ``generate()`` and ``result()``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from janito_core import events as ev
from janito_core.errors import GenerationError
from janito_core.messages import Message, ToolCall
from janito_core.usage import Usage

if TYPE_CHECKING:
    from decimal import Decimal

    from janito_core.generation import Generation

__all__ = ["GenerationResult", "summarise"]


@attrs.frozen(kw_only=True)
class GenerationResult:
    """What ``generate()`` returns: the outcome of one whole generation."""

    status: str
    text: str
    reasoning: str
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str | None
    usage: Usage
    #: USD, from the price table (``janito-core[prices]``); ``None`` when it cannot be known.
    cost: Decimal | None = None
    messages: tuple[Message, ...]
    history: tuple[Message, ...]
    events: tuple[ev.Event, ...] = attrs.field(repr=False)


def summarise(gen: Generation) -> GenerationResult:
    """The result of a finished generation, from every event it committed (read or not).

    Raises the failed request's typed ``GenerationError`` when it ended in error.
    """
    collected = tuple(gen.events)
    finished = collected[-1] if collected else None
    if not isinstance(finished, ev.GenerationFinished):
        raise GenerationError("the stream was closed before the generation finished")
    if finished.status == "error":
        failure = next((e for e in reversed(collected) if isinstance(e, ev.RequestError)), None)
        if failure is not None and isinstance(failure.exception, GenerationError):
            raise failure.exception
        message = failure.error if failure else "the generation failed"
        raise GenerationError(
            message,
            status_code=failure.status_code if failure else None,
            retryable=failure.retryable if failure else False,
        ) from (failure.exception if failure else None)
    calls = tuple(c for m in finished.messages if m.role == "assistant" for c in m.tool_calls)
    return GenerationResult(
        status=finished.status,
        text="".join(e.content_part for e in collected if type(e) is ev.ContentPartFound),
        reasoning="".join(e.reasoning_part for e in collected if type(e) is ev.ReasoningPartFound),
        tool_calls=calls,
        finish_reason=finished.finish_reason,
        usage=finished.usage,
        cost=finished.cost,
        messages=finished.messages,
        history=(*gen.initial_history, *finished.messages),
        events=collected,
    )
