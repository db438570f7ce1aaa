"""``GenerationResult``: a whole generation summed up, for ``generate()`` and ``result()``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    #: The answer parsed for ``output_schema=``: an instance of the type asked for, or the JSON
    #: value for a schema dict; None when no schema was asked for or the generation was cancelled.
    output: Any = None
    messages: tuple[Message, ...]
    history: tuple[Message, ...]
    events: tuple[ev.Event, ...] = attrs.field(repr=False)


def summarise(gen: Generation) -> GenerationResult:
    """The result of a finished generation, from every event it committed (read or not).

    Raises the failed request's typed ``GenerationError`` when it ended in error, and
    ``OutputError`` when a structured answer does not parse.
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
    output = None
    if gen.output is not None and finished.status == "completed":
        # The final answer is the last assistant turn; text before a tool round is not part of it.
        answer = next((m for m in reversed(finished.messages) if m.role == "assistant"), None)
        output = gen.output.parse(
            answer.content if answer else "", finish_reason=finished.finish_reason
        )
    return GenerationResult(
        status=finished.status,
        text="".join(e.content_part for e in collected if type(e) is ev.ContentPartFound),
        reasoning="".join(e.reasoning_part for e in collected if type(e) is ev.ReasoningPartFound),
        tool_calls=calls,
        finish_reason=finished.finish_reason,
        usage=finished.usage,
        cost=finished.cost,
        output=output,
        messages=finished.messages,
        history=(*gen.initial_history, *finished.messages),
        events=collected,
    )
