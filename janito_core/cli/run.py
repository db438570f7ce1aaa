"""``janito-drivers run``: one generation, its answer on stdout, everything else on stderr.

The exit status says how it ended: 0 completed, 1 error, 130 cancelled (Ctrl-C), 141 the reader
of stdout went away (``| head``), which cancels the generation. Each run is logged to the
conversation store unless ``--no-log`` or ``JANITO_NO_LOG`` says not to; ``-c``/``--cid``
continue a logged conversation.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

from janito_core.cli.exits import (
    EXIT_CANCELLED,
    EXIT_CLOSED_PIPE,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    is_closed_pipe,
    silence,
)
from janito_core.cli.indicator import Indicator
from janito_core.cli.prompt import PromptError, read_prompt

if TYPE_CHECKING:
    from janito_core import events as ev
    from janito_core.attachments import Attachment
    from janito_core.cli.store import Conversation, Exchange, Store
    from janito_core.driver import LLMDriver
    from janito_core.streams import EventStream
    from janito_core.usage import Usage

DEFAULT_DRIVER = "echo"

# Core's texts speak to Python callers ("pass api_key=..."); on the command line the same advice
# names the flag.
_FLAG_WORDS = (
    (re.compile(r"\bapi_key=(?:\.\.\.)?"), "--key"),
    (re.compile(r"\bbase_url\b"), "--base-url"),
)


def in_flag_words(text: str) -> str:
    """``text`` with the Python keyword names the core uses replaced by this command's flags."""
    for pattern, flag in _FLAG_WORDS:
        text = pattern.sub(flag, text)
    return text


def logging_wanted(args: argparse.Namespace) -> bool:
    """Logging is on unless ``--no-log`` is given or ``JANITO_NO_LOG`` is set (not "" or "0")."""
    return not args.no_log and os.environ.get("JANITO_NO_LOG", "") in ("", "0")


def run(args: argparse.Namespace, stdin: TextIO | None, stdout: TextIO, stderr: TextIO) -> int:
    """Run the ``run`` command; returns the exit status."""
    console = Console(stdout, stderr)
    try:
        prompt = read_prompt(args.prompt, stdin, stderr)
    except PromptError as exc:
        console.note(f"janito-drivers run: {exc}\n")
        return EXIT_USAGE
    store: Store | None = None
    try:
        conversation = None
        if args.continue_ or args.cid:
            store, conversation = _continued(args.cid)
        return _generate(args, prompt, conversation, store, console)
    except _Failed as failed:
        console.note(f"janito-drivers: {in_flag_words(str(failed))}\n")
        return EXIT_ERROR
    finally:
        console.close()
        if store is not None:
            store.close()


class _Failed(Exception):
    """The run cannot start; the text is the message for stderr."""


def _continued(cid: str | None) -> tuple[Store, Conversation]:
    from janito_core.cli.store import Store, StoreError

    try:
        store = Store.open(create=False)
    except StoreError as exc:
        raise _Failed(f"no conversation to continue: {exc}") from exc
    try:
        conversation = store.conversation(cid)
    except StoreError as exc:
        store.close()
        raise _Failed(str(exc)) from exc
    if conversation is None:
        store.close()
        which = f"no conversation {cid!r}" if cid else "no conversation"
        raise _Failed(f"{which} to continue in {store.path}; see `janito-drivers logs`")
    return store, conversation


def _generate(
    args: argparse.Namespace,
    prompt: str,
    conversation: Conversation | None,
    store: Store | None,
    console: Console,
) -> int:
    from janito_core.errors import JanitoError
    from janito_core.registry import get_driver

    name, model, system = _settings(args, conversation, console)
    config = {
        k: v for k, v in (("model", model), ("base_url", args.base_url), ("api_key", args.key)) if v
    }
    try:
        options = parse_options(args.option)
        attachments = [attachment_of(item) for item in args.attach]
        schema = read_schema(args.schema) if args.schema else None
        driver = get_driver(name, **config)
    except (JanitoError, ValueError) as exc:
        raise _Failed(str(exc)) from exc
    try:
        started = time.time()
        try:
            stream = driver.stream_generate(
                prompt,
                messages=conversation.history if conversation else None,
                system_prompt=system,
                reasoning=args.reasoning,
                attachments=attachments,
                output_schema=schema,
                **options,
            )
        except (JanitoError, ValueError) as exc:
            raise _Failed(str(exc)) from exc
        console.start_waiting(f"waiting for {name} ({driver.model})", stream.cancel)
        reader = _Reader(args, console)
        with _ctrl_c_cancels(stream, console):
            for event in stream:
                reader.take(event)
        duration = time.time() - started
        finished = reader.finished
        whole = (args.no_stream or schema is not None) and not args.events
        status = finished.status if finished is not None else "cancelled"
        answer = reader.text
        if schema is not None and status == "completed":
            answer, failure = _structured(stream)
            if failure is not None:  # an answer that does not fit the schema is a failed run
                reader.failure, status = failure, "error"
        console.end_answer(answer if whole and status == "completed" else None)
    finally:
        console.stop_waiting()
        driver.close()
    if args.usage and finished is not None:
        console.note(f"{usage_line(finished.usage)}; {cost_text(finished, driver)}\n")
    if logging_wanted(args) and finished is not None:
        from janito_core.cli.store import Exchange, new_conversation_id
        from janito_core.messages import Message

        exchange = Exchange(
            conversation_id=conversation.id if conversation else new_conversation_id(),
            started=started,
            duration=duration,
            driver=name,
            model=reader.model or driver.model,
            system=system,
            prompt=prompt,
            answer=reader.text,
            options=options,
            status=status,
            finish_reason=finished.finish_reason,
            error=reader.failure,
            usage=finished.usage,
            messages=(Message.user(prompt, *attachments), *finished.messages),
        )
        _log(exchange, store, driver.config.api_key, console)
    if console.stdout_closed:
        return EXIT_CLOSED_PIPE
    if status == "cancelled":
        console.note("janito-drivers: cancelled\n")
        return EXIT_CANCELLED
    if status == "error":
        console.note(f"janito-drivers: {reader.failure or 'the generation failed'}\n")
        return EXIT_ERROR
    return EXIT_OK


def attachment_of(item: str) -> Attachment:
    """The ``-a`` argument ``item`` as an attachment: an http(s) or gs URL, else a file."""
    from janito_core.attachments import Attachment

    if re.match(r"^(https?|gs)://", item):
        return Attachment.from_url(item)
    return Attachment.from_path(item)


def read_schema(path: str) -> dict[str, Any]:
    """The JSON Schema in the file ``path`` (``--schema``); ``ValueError`` saying what is wrong."""
    try:
        with open(path, encoding="utf-8") as file:
            schema = json.load(file)
    except OSError as exc:
        raise ValueError(f"--schema {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"--schema {path}: not JSON ({exc})") from None
    if not isinstance(schema, dict):
        kind = type(schema).__name__
        raise ValueError(f"--schema {path}: a JSON Schema is an object, not {kind}")
    return schema


def _structured(stream: EventStream) -> tuple[str, str | None]:
    """The parsed answer as indented JSON, or the raw text and why it does not fit."""
    from janito_core.errors import OutputError

    try:
        output = stream.result().output
    except OutputError as exc:
        return exc.text, str(exc)
    return json.dumps(output, indent=2, ensure_ascii=False), None


def _settings(
    args: argparse.Namespace, conversation: Conversation | None, console: Console
) -> tuple[str, str | None, str | None]:
    """The driver, model and system prompt: the flags, else the continued conversation's (its
    model only with its driver), else ``JANITO_DRIVER``, else the echo driver (said so)."""
    last = conversation.last if conversation else None
    name = args.driver or (last.driver if last else None) or os.environ.get("JANITO_DRIVER")
    if not name:
        name = DEFAULT_DRIVER
        console.note(
            "janito-drivers: no driver chosen (-d or JANITO_DRIVER);"
            " using the offline echo driver\n"
        )
    model = args.model or (last.model if last and last.driver == name else None)
    system = args.system if args.system is not None else (last.system if last else None)
    return name, model, system


class _Reader:
    """Turns each event into output, and keeps what the log and the exit status need."""

    def __init__(self, args: argparse.Namespace, console: Console) -> None:
        self._events = bool(args.events)
        # Structured output is printed once parsed, not as it streams.
        self._stream = not args.no_stream and not getattr(args, "schema", None)
        self._console = console
        self._pieces: list[str] = []
        self.model: str | None = None
        self.failure: str | None = None
        self.finished: ev.GenerationFinished | None = None

    @property
    def text(self) -> str:
        """The answer's text so far."""
        return "".join(self._pieces)

    def take(self, event: ev.Event) -> None:
        from janito_core import events as ev

        console = self._console
        if self._events:
            console.answer(json.dumps(event.to_dict(), ensure_ascii=False) + "\n", self._stream)
        if isinstance(event, ev.ContentPartFound):
            self._pieces.append(event.content_part)
            if not self._events and self._stream:
                console.answer(event.content_part)
        elif isinstance(event, ev.ReasoningPartFound):
            console.relabel("thinking")
        elif isinstance(event, ev.GenerationStarted):
            self.model = event.model
        elif self._events:
            pass  # the JSON lines already say everything below
        elif isinstance(event, (ev.ToolCallStarted, ev.ToolCallRequested)):
            console.note(f"[tool {event.name} {json.dumps(event.arguments)}]\n")
        elif isinstance(event, ev.ToolCallError):
            console.note(f"[tool {event.name} failed: {event.error}]\n")
        elif isinstance(event, ev.RequestRetry):
            error = in_flag_words(event.error)
            console.note(f"[retry {event.attempt} in {event.delay:.1f}s: {error}]\n")
        if isinstance(event, ev.RequestError):
            self.failure = in_flag_words(event.error)
        elif isinstance(event, ev.GenerationFinished):
            self.finished = event


class Console:
    """stdout for the answer, stderr for the rest, the waiting indicator, and closed pipes.

    When the reader of stdout goes away, the generation is cancelled and nothing more is
    written there; a closed stderr only silences the messages.
    """

    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self._out = stdout
        self._err = stderr
        self._held: list[str] = []
        self._last = ""
        self._indicator: Indicator | None = None
        self._cancel: Callable[[], None] | None = None
        self.stdout_closed = False
        self._stderr_closed = False

    def start_waiting(self, label: str, cancel: Callable[[], None]) -> None:
        """Show the indicator until the answer starts; ``cancel`` is called if stdout closes."""
        self._cancel = cancel
        self._indicator = Indicator(self._err, label)
        self._indicator.start()

    def relabel(self, label: str) -> None:
        """Change what the indicator says, if it still shows."""
        if self._indicator is not None:
            self._indicator.relabel(label)

    def stop_waiting(self) -> None:
        """Erase the indicator for good."""
        if self._indicator is not None:
            self._indicator.stop()

    def answer(self, text: str, now: bool = True) -> None:
        """Write answer text to stdout (or hold it for the end when not ``now``)."""
        if not now:
            self._held.append(text)
            return
        self.stop_waiting()
        self._write_out(text)

    def end_answer(self, whole: str | None = None) -> None:
        """Write what was held and ``whole`` (a completed ``--no-stream`` answer), then end the
        answer's last line."""
        self.stop_waiting()
        self._write_out("".join(self._held))
        if whole is not None:
            self._write_out(whole)
        if self._last and not self._last.endswith("\n"):
            self._write_out("\n")

    def note(self, text: str) -> None:
        """Write a message to stderr, on its own line even while the indicator turns."""
        if self._stderr_closed:
            return
        try:
            if self._indicator is not None and self._indicator.enabled:
                self._indicator.message(text)
            else:
                self._err.write(text)
                self._err.flush()
        except OSError as exc:
            if not is_closed_pipe(exc):
                raise
            self._stderr_closed = True
            silence(self._err)

    def close(self) -> None:
        """Stop the indicator; called however the run ends."""
        self.stop_waiting()

    def _write_out(self, text: str) -> None:
        if self.stdout_closed or not text:
            return
        try:
            self._out.write(text)
            self._out.flush()
        except OSError as exc:
            if not is_closed_pipe(exc):
                raise
            self.stdout_closed = True
            silence(self._out)
            if self._cancel is not None:
                self._cancel()
            return
        self._last = text


def usage_line(usage: Usage) -> str:
    """What ``-u`` prints of the tokens: cached and cache-write tokens are part of the input,
    reasoning part of the output; usage the provider did not report is said, not shown as 0."""
    counts = (usage.input_tokens, usage.output_tokens, usage.total_tokens, usage.cache_write_tokens)
    if usage.missing and not any(counts):
        return "Tokens: usage not reported by the provider"
    cache = f"{usage.cached_input_tokens:,} cached"
    if usage.cache_write_tokens:
        cache += f", {usage.cache_write_tokens:,} cache writes"
    line = (
        f"Tokens: {usage.input_tokens:,} input ({cache}),"
        f" {usage.output_tokens:,} output ({usage.reasoning_tokens:,} reasoning)"
    )
    if usage.missing:
        line += ", usage not reported by the provider for every request"
    return line


def cost_text(finished: ev.GenerationFinished, driver: LLMDriver) -> str:
    """What ``-u`` prints of the cost: ``cost $0.000123``, or ``cost unknown`` and why."""
    if finished.cost is not None:
        return f"cost ${finished.cost:f}"
    if finished.usage.missing:
        return "cost unknown"  # the tokens part says why
    from janito_core.cost import generation_cost

    # The reason only: GenerationFinished carries the cost, not why it has none.
    why = generation_cost(driver, driver.model, [finished.usage]).unknown
    return f"cost unknown ({why or 'not every request could be priced'})"


def _log(exchange: Exchange, store: Store | None, key: str | None, console: Console) -> None:
    from janito_core.cli.store import Store, StoreError

    try:
        if store is not None:
            store.add(exchange, secrets=(key,))
            return
        with Store.open() as fresh:
            fresh.add(exchange, secrets=(key,))
    except StoreError as exc:
        console.note(f"janito-drivers: not logged: {exc}\n")


@contextlib.contextmanager
def _ctrl_c_cancels(stream: EventStream, console: Console) -> Iterator[None]:
    """The first Ctrl-C cancels the generation (its stream then ends); a second one quits."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed = False

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal pressed
        if pressed:
            raise KeyboardInterrupt
        pressed = True
        console.relabel("cancelling")
        stream.cancel()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def parse_options(pairs: list[str]) -> dict[str, Any]:
    """``-o KEY=VALUE`` pairs as a dict; a value is read as JSON when it parses."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"option {pair!r} is not KEY=VALUE")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options
