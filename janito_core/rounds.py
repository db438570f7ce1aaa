"""The request/tool loop of one generation, as a coroutine on the generation's event loop.

Rounds: send a request, turn its parts into events (running tools as their calls arrive, so the
events keep the response's order), then send the next request with the results, until the model
answers without calls. Retries with back-off happen here, once for every driver. Every event goes
through ``Generation.commit``; a cancel arrives as the task's cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, TypedDict

import attrs

from janito_core import events as ev
from janito_core.bridge import iterate_in_thread, run_in_thread
from janito_core.clients import take_close_abort
from janito_core.cost import finished_cost
from janito_core.driver import ProviderRequest, RequestContext, is_async_driver
from janito_core.generation import Generation, Response
from janito_core.messages import Message, ToolCall
from janito_core.parts import (
    FinishPart,
    MetadataPart,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ErrorInfo, ProviderError, backoff_delay
from janito_core.usage import Usage

__all__ = ["run_generation"]

log = logging.getLogger("janito_core.harness")


async def run_generation(gen: Generation) -> None:
    """Run ``gen`` to its end; whatever happens, its stream ends with ``GenerationFinished``."""
    try:
        await _rounds(gen)
    except asyncio.CancelledError:
        task = asyncio.current_task()
        closed = take_close_abort(task) if task is not None else None
        if closed is not None and not gen.finished:
            # driver.close() aborted the request while it waited outside the driver's own
            # code (say, for a tool): that is an error the user must see, not a cancel.
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:
                uncancel()
            gen.fail(ProviderError(closed), closed)
            return
        # Cancelled from outside (the consumer's task, a timeout, loop shutdown) or by cancel():
        # either way the stream is closed as cancelled.
        gen.cancel()
    except BaseException as exc:
        # A bug in a driver or here, even a SystemExit raised by driver code: the stream still
        # ends properly, and the loop (maybe the shared one) goes on serving the others.
        log.exception("generation %s failed unexpectedly", gen.generation_id)
        gen.fail(exc)
    finally:
        gen.context = None


async def _rounds(gen: Generation) -> None:
    base = gen.base
    history = list(gen.initial_history)
    finish_reason: str | None = None
    for number in range(1, gen.driver.config.max_tool_rounds + 1):
        if gen.should_stop():
            return
        response = Response(request_id=f"{gen.generation_id[:12]}-{number}")

        def open_response(response: Response = response) -> None:
            gen.response = response

        if not gen.commit(ev.RequestStarted(**base, request_id=response.request_id), open_response):
            return
        failure = await _request(gen, history, response)
        if gen.finished:
            return
        if failure is not None:
            info, exc = failure

            def record_failure(response: Response = response) -> None:
                gen.added += response.messages(cancelled=True)
                gen.usage = gen.usage + response.usage
                gen.response = None

            message = gen.redact(info.message)
            error = attrs.evolve(info, message=message).to_error()
            error.__cause__ = gen.safe_exception(exc)
            gen.commit(
                ev.RequestError(
                    **base,
                    request_id=response.request_id,
                    error=message,
                    exception=error,
                    status_code=info.status_code,
                    retryable=info.retryable,
                ),
                record_failure,
            )
            _finish(gen, "error", "error")
            return
        turn = response.messages()

        def record_turn(response: Response = response, turn: list[Message] = turn) -> None:
            gen.added += turn
            gen.usage = gen.usage + response.usage
            gen.response = None

        finish_reason = response.finish_reason
        gen.commit(
            ev.RequestFinished(
                **base,
                request_id=response.request_id,
                status="completed",
                finish_reason=finish_reason,
                usage=response.usage,
            ),
            record_turn,
        )
        history += turn
        if not response.calls or response.handed_to_caller:
            _finish(gen, "completed", finish_reason)
            return
    _finish(gen, "completed", "max_tool_rounds")


def _finish(gen: Generation, status: ev.GenerationStatus, finish_reason: str | None) -> None:
    # Priced whatever the status: a failed generation's completed requests were billed too.
    cost = finished_cost(gen.driver, gen.events, gen.usage)
    gen.commit(
        ev.GenerationFinished(
            **gen.base,
            status=status,
            finish_reason=finish_reason,
            usage=gen.usage,
            messages=tuple(gen.added),
            cost=cost,
        )
    )


async def _request(
    gen: Generation, history: list[Message], response: Response
) -> tuple[ErrorInfo, BaseException] | None:
    """Send one request, with retries; None when it completed, else why it failed."""
    driver = gen.driver
    config = driver.config
    attempt = 0
    while True:
        context = RequestContext()
        gen.context = context
        request = gen.request(response.request_id, history, attempt)
        try:
            async with _closing(_parts(gen, request, context)) as parts:
                async for part in parts:
                    if gen.should_stop():
                        return None
                    await _handle(gen, part, response)
            if gen.should_stop():
                return None
            if not response.finished and driver.end_marker_required():
                raise ProviderError(
                    ErrorInfo(
                        message=(
                            f"the response from {gen.driver_name} ended before the provider "
                            "marked it complete (no end marker or finish reason): the "
                            "connection was probably cut"
                        ),
                        retryable=True,
                    )
                )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if gen.should_stop():
                return None
            info = _describe(gen, exc)
            retry_after = info.retry_after
            can_retry = (
                info.retryable
                and not response.delivered
                and attempt < config.max_retries
                and (retry_after is None or retry_after <= config.max_retry_delay)
            )
            if not can_retry:
                return info, exc
            attempt += 1
            delay = (
                retry_after
                if retry_after is not None
                else backoff_delay(attempt, config.retry_base_delay, config.max_retry_delay)
            )
            # Whatever a failed attempt produced (usage, a finish reason) is not the answer.
            response.usage = Usage(missing=True)
            response.finish_reason = None
            response.finished = False
            gen.commit(
                ev.RequestRetry(
                    **gen.base,
                    request_id=response.request_id,
                    attempt=attempt,
                    delay=delay,
                    error=gen.redact(info.message),
                    status_code=info.status_code,
                )
            )
            await _sleep(gen, delay)
            if gen.should_stop():
                return None
            continue
        finally:
            gen.context = None
        return None


async def _sleep(gen: Generation, delay: float) -> None:
    """Back off for ``delay`` s; a caller's cancel_event is looked at while waiting."""
    user_cancel = gen.user_cancel
    if user_cancel is None:
        await asyncio.sleep(delay)
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + delay
    while not user_cancel.is_set():
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(left, 0.005))


def _parts(
    gen: Generation, request: ProviderRequest, context: RequestContext
) -> AsyncIterator[Any]:
    """The request's parts, from either seam: the driver's own iterator, not a wrapper around
    it (a generator in between would cost every part a hop)."""
    driver = gen.driver
    if is_async_driver(driver):
        return driver.astream_request(request, context)
    return iterate_in_thread(lambda: driver.stream_request(request, context), context, gen)


@contextlib.asynccontextmanager
async def _closing(source: AsyncIterator[Any]) -> AsyncGenerator[AsyncIterator[Any], None]:
    """``contextlib.aclosing`` for any async iterator: closed if it can be, however it ends."""
    try:
        yield source
    finally:
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            await aclose()


def _describe(gen: Generation, exc: BaseException) -> ErrorInfo:
    try:
        return gen.driver.describe_error(exc)
    except Exception:
        log.debug("describe_error failed", exc_info=True)
        return ErrorInfo(message=f"{type(exc).__name__}: {exc}")


# -- parts to events -------------------------------------------------------------------------


async def _handle(gen: Generation, part: object, response: Response) -> None:
    kind = type(part)
    if kind is TextPart:
        text: str = part.text  # type: ignore[attr-defined]
        if text and not gen.finished:
            event = ev.ContentPartFound(
                **gen.base, request_id=response.request_id, content_part=text
            )
            gen.commit_piece(event, response.text, text, response)
    elif kind is ReasoningPart:
        text = part.text  # type: ignore[attr-defined]
        if text and not gen.finished:
            thought = ev.ReasoningPartFound(
                **gen.base, request_id=response.request_id, reasoning_part=text
            )
            gen.commit_piece(thought, response.reasoning, text, response)
    elif kind is ToolCallPart:
        await _tool_call(gen, part, response)  # type: ignore[arg-type]
    elif kind is UsagePart:
        response.usage = part.usage  # type: ignore[attr-defined]
    elif kind is FinishPart:
        response.finish_reason = part.reason  # type: ignore[attr-defined]
        response.finished = True
    elif kind is MetadataPart:
        response.provider_data.update(part.data)  # type: ignore[attr-defined]
    else:
        raise TypeError(f"driver {gen.driver_name} yielded {part!r}, not a part")


async def _tool_call(gen: Generation, part: ToolCallPart, response: Response) -> None:
    base = gen.base
    arguments, raw, problem = _parse_arguments(part.arguments)
    call = ToolCall(
        id=part.id or f"call_{uuid.uuid4().hex[:12]}",
        name=part.name,
        arguments=arguments,
        raw_arguments=raw,
        provider_data=dict(part.provider_data),
    )
    if gen.should_stop():
        return  # no new tool call starts once cancelled
    ids = _CallIds(request_id=response.request_id, tool_call_id=call.id, name=call.name)
    tool = gen.tools_by_name.get(call.name)

    def add_call() -> None:
        response.calls.append(call)
        response.delivered = True

    if tool is not None and tool.function is None:

        def hand_over() -> None:
            add_call()
            response.handed_to_caller = True

        gen.commit(ev.ToolCallRequested(**base, **ids, arguments=dict(arguments)), hand_over)
        return
    if not gen.commit(ev.ToolCallStarted(**base, **ids, arguments=dict(arguments)), add_call):
        return
    if tool is None:
        known = ", ".join(gen.tools_by_name) or "none"
        problem = f"unknown tool {call.name!r}; the tools offered are: {known}"
    elif problem is None:
        problem = tool.argument_problem(arguments)
    if problem is None:
        assert tool is not None
        try:
            if tool.is_async:
                result = await tool.arun(arguments, gen.cancelled)
            else:
                result = await run_in_thread(lambda: tool.run(arguments, gen.cancelled), gen)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:

            def add_result() -> None:
                response.results.append(Message.tool_result(call.id, call.name, result))

            gen.commit(ev.ToolCallFinished(**base, **ids, result=result), add_result)
            return
    problem = gen.redact(problem)
    error_text = f"Error: {problem}"

    def add_error() -> None:
        response.results.append(Message.tool_result(call.id, call.name, error_text, is_error=True))

    gen.commit(ev.ToolCallError(**base, **ids, error=problem), add_error)


class _CallIds(TypedDict):
    request_id: str
    tool_call_id: str
    name: str


def _parse_arguments(
    arguments: str | Mapping[str, Any],
) -> tuple[dict[str, Any], str | None, str | None]:
    """(parsed arguments, raw text, problem) for a call's arguments."""
    if isinstance(arguments, Mapping):
        return dict(arguments), None, None
    raw = arguments
    if not raw.strip():
        return {}, raw, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return {}, raw, f"the arguments are not valid JSON ({exc.msg}): {raw[:200]!r}"
    if not isinstance(value, dict):
        return {}, raw, f"the arguments must be a JSON object, got {type(value).__name__}"
    return value, raw, None
