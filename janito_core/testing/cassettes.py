"""Recorded provider traffic (the shared cassette folders) replayed on the loopback ``WireServer``.

The recordings come from other projects' test suites and are not part of this repository: they
live in a ``shared/`` folder beside it (``<repo root>/../shared``), or wherever the
``JANITO_SHARED_DIR`` environment variable points. Tests that need them skip, saying what is
missing, when the folder is absent. Each file is one HTTP exchange; its format is described in
``shared/cassettes/README.md``.

A replay test reads what a recording holds into an ``Expected`` with its own plain extraction,
checks that reading against the recording's description (``check_description``), then the
driver's events against it (``check_replay``)::

    @pytest.mark.parametrize("name", cassette_params("rw_gemini_"))
    def test_replay(name, server, make_driver):
        cassette = load_cassette(name)
        expected = read_gemini_body(cassette)
        check_description(cassette, expected)
        server.enqueue(cassette.reply(), follow_up_reply)
        events = finish(make_driver().stream_generate("hi", tools=tools_for(expected)))
        check_replay(events, expected, requests=len(server.requests))
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

from janito_core import events as ev
from janito_core.testing.helpers import events_of, finished_event, kinds_of, reasoning_of, text_of
from janito_core.testing.server import Reply, Send
from janito_core.tools import Tool
from janito_core.usage import Usage

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

__all__ = [
    "FOLLOW_UP_TEXT",
    "REALWORLD",
    "RECORDED",
    "SHARED_DIR_VARIABLE",
    "Cassette",
    "Expected",
    "ExpectedCall",
    "cassette_dir",
    "cassette_names",
    "cassette_params",
    "check_description",
    "check_replay",
    "load_cassette",
    "missing_reason",
    "shared_dir",
    "tools_for",
]

SHARED_DIR_VARIABLE = "JANITO_SHARED_DIR"
REALWORLD = "realworld-cassettes"
"""Real traffic recorded by other projects, many providers and compatible servers."""
RECORDED = "cassettes"
"""The first, smaller set: six exchanges each for OpenAI, Gemini and Mistral."""

# The body is stored decoded and the server frames it itself: a recorded framing or encoding
# header would contradict what goes out.
_FRAMING_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "content-encoding", "connection"}
)
# An SSE event ends at a blank line, whichever line ending the provider uses (Gemini: CRLF).
_SSE_EVENT = re.compile(r".*?(?:\r\n\r\n|\n\n|\r\r)", re.DOTALL)


def shared_dir() -> Path:
    """The shared folder: ``$JANITO_SHARED_DIR``, else ``shared/`` beside the repository.

    The repository root is found from this file's place in the source tree, so a checkout in
    any folder works as long as ``shared/`` sits next to it.
    """
    override = os.environ.get(SHARED_DIR_VARIABLE)
    if override:
        return Path(override).expanduser().resolve()
    return (Path(__file__).resolve().parents[2] / ".." / "shared").resolve()


def cassette_dir(collection: str = REALWORLD) -> Path:
    """The folder of one collection of recordings (it may not exist: see ``missing_reason``)."""
    return shared_dir() / collection


def missing_reason(collection: str = REALWORLD) -> str | None:
    """Why the recordings of ``collection`` cannot be read, or None when they can."""
    folder = cassette_dir(collection)
    if folder.is_dir():
        return None
    return (
        f"recorded provider traffic not found at {folder}: these tests need the shared/ folder "
        "beside the repository"
    )


def cassette_names(prefix: str = "", collection: str = REALWORLD) -> list[str]:
    """The stems of the collection's files starting with ``prefix``, sorted; [] when absent."""
    if missing_reason(collection) is not None:
        return []
    return sorted(p.stem for p in cassette_dir(collection).glob(f"{prefix}*.json"))


def cassette_params(
    prefix: str,
    collection: str = REALWORLD,
    *,
    xfail: Mapping[str, str] | None = None,
    exclude: Iterable[str] = (),
) -> list[ParameterSet]:
    """``pytest.param`` for every cassette starting with ``prefix``, with the stem as its id.

    ``xfail`` maps a stem to the one-line reason it is expected to fail (strict: a fix makes
    the case fail until the entry is removed). A stem named in ``xfail`` or ``exclude`` that
    matches no file is an error, so a renamed recording cannot go silently untested. When the
    folder is absent the list holds one case that skips, saying what is missing.
    """
    reason = missing_reason(collection)
    if reason is not None:
        return [pytest.param(None, id="no-recordings", marks=pytest.mark.skip(reason=reason))]
    names = cassette_names(prefix, collection)
    xfail = dict(xfail or {})
    skipped = set(exclude)
    unknown = sorted((set(xfail) | skipped) - set(names))
    if unknown:
        raise ValueError(f"no cassette {', '.join(unknown)} in {cassette_dir(collection)}")
    params: list[ParameterSet] = []
    for name in names:
        if name in skipped:
            continue
        marks = [pytest.mark.xfail(strict=True, reason=xfail[name])] if name in xfail else []
        params.append(pytest.param(name, id=name, marks=marks))
    return params


def load_cassette(name: str, collection: str = REALWORLD) -> Cassette:
    """One recording by its file stem; skips the calling test when the folder is absent."""
    reason = missing_reason(collection)
    if reason is not None:
        pytest.skip(reason)
    return Cassette.from_file(cassette_dir(collection) / f"{name}.json")


@attrs.frozen(kw_only=True)
class Cassette:
    """One recorded HTTP exchange: the request as sent and the response as received.

    ``data`` is the file's whole JSON object; the other fields are its most used parts.
    ``body`` is the response body as text (SSE bytes as recorded, or a JSON document).
    """

    name: str
    provider: str
    exercises: str
    status: int
    headers: Mapping[str, str]
    body: str
    body_form: str
    data: Mapping[str, Any] = attrs.field(repr=False)

    @classmethod
    def from_file(cls, path: Path) -> Cassette:
        """Read one cassette file."""
        data = json.loads(path.read_text(encoding="utf-8"))
        response = data["response"]
        return cls(
            name=path.stem,
            provider=data["provider"],
            exercises=data.get("exercises", ""),
            status=int(response["status"]),
            headers={str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()},
            body=response["body"],
            body_form=response.get("body_form", ""),
            data=data,
        )

    @property
    def api(self) -> str | None:
        """The API a recording used where a provider has several (OpenAI: chat, responses)."""
        api = self.data.get("api")
        return api if isinstance(api, str) else None

    @property
    def request(self) -> Mapping[str, Any]:
        """The recorded request: ``method``, ``url``, ``path``, ``body``... (see the README)."""
        request: Mapping[str, Any] = self.data["request"]
        return request

    def request_json(self) -> Any:
        """The recorded request body parsed as JSON (None when it is not JSON)."""
        request = self.request
        if "body_json" in request:
            return request["body_json"]
        body = request.get("body")
        if isinstance(body, (dict, list)):
            return body
        try:
            return json.loads(body) if isinstance(body, str) else None
        except ValueError:
            return None

    @property
    def is_event_stream(self) -> bool:
        """True when the body is server-sent events (else it is one whole document)."""
        head = self.body.lstrip()
        return head.startswith(("data:", "event:", ":", "id:", "retry:"))

    def sse_events(self) -> list[str]:
        """The body cut after each blank line: one string per event, separators kept.

        Joined, the pieces are the body exactly; a body with no final blank line keeps its
        tail as a last piece.
        """
        pieces = _SSE_EVENT.findall(self.body)
        tail = self.body[sum(map(len, pieces)) :]
        return [*pieces, tail] if tail else pieces

    def sse_data(self) -> list[tuple[str | None, str]]:
        """Each event's name (``event:``, None when absent) and data (its ``data:`` lines
        joined by newlines); comments and events without data are left out."""
        out: list[tuple[str | None, str]] = []
        for event in self.sse_events():
            name: str | None = None
            data: list[str] = []
            for line in re.split(r"\r\n|\r|\n", event):
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "event":
                    name = value
                elif field == "data":
                    data.append(value)
            if data:
                out.append((name, "\n".join(data)))
        return out

    def reply(self) -> Reply:
        """The recorded response for a ``WireServer``: status, headers and body as recorded.

        An event stream goes out one recorded event per chunk, as a provider flushes them; a
        whole body goes out at once with its length. Either way the bytes are the recording's.
        """
        headers = {k: v for k, v in self.headers.items() if k not in _FRAMING_HEADERS}
        if not self.is_event_stream:
            return Reply(status=self.status, headers=headers, body=self.body.encode("utf-8"))
        steps = [Send(event.encode("utf-8")) for event in self.sse_events()]
        return Reply(status=self.status, headers=headers, steps=steps)


# -- what a replay must give --------------------------------------------------------------------

FOLLOW_UP_TEXT = "Noted, thanks."
"""The answer a test scripts for the request that follows a recorded tool call."""
TOOL_RESULT = "ok"


@attrs.frozen
class ExpectedCall:
    """A tool call a recording holds; ``id`` None where the provider sent none."""

    name: str
    arguments: Mapping[str, Any]
    id: str | None = None


@attrs.frozen(kw_only=True)
class Expected:
    """What one recorded response holds, read from its body by the test, not by the driver.

    ``reasoning_chars`` is the length of the recorded reasoning alone, where ``reasoning``
    also holds breaks the driver puts between reasoning parts (None: ``len(reasoning)``).
    ``finish_reason`` None leaves the finish reason unchecked (the recording states none);
    ``usage`` None means the body carries no usage. ``error_status`` and ``error_text``
    describe a response that must end in a ``RequestError``: an HTTP status (None for an
    in-band failure) and a piece of text its message must hold.
    """

    text: str = ""
    reasoning: str = ""
    reasoning_chars: int | None = None
    calls: tuple[ExpectedCall, ...] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    error_status: int | None = None
    error_text: str | None = None

    @property
    def is_error(self) -> bool:
        """True when the response must end in a ``RequestError``."""
        return self.error_status is not None or self.error_text is not None


def _answer(**arguments: Any) -> str:
    return TOOL_RESULT


def tools_for(expected: Expected) -> list[Tool]:
    """One tool per called name, taking any arguments and answering ``"ok"``."""
    names = dict.fromkeys(call.name for call in expected.calls)
    schema = {"type": "object"}
    return [
        Tool(name=n, description="a recorded tool", parameters=schema, function=_answer)
        for n in names
    ]


def _same(what: str, got: object, want: object) -> None:
    # The kit is not rewritten by pytest's assert machinery: say what differed.
    assert got == want, f"{what}: got {got!r}, the recording holds {want!r}"


def check_description(cassette: Cassette, expected: Expected) -> None:
    """Assert that a test's reading of a body agrees with the recording's ``exercises`` text.

    The text was written by whoever gathered the recordings, from the bodies: the lengths of
    text and reasoning, the called names, whether usage (and which details) is present, the
    HTTP status and the start of the error message. A reading that disagrees is a bug in the
    test's extraction, caught before the driver is compared with it.
    """
    said = cassette.exercises
    if (found := re.search(r"HTTP (\d+) error: (.*?)(?:;|$)", said)) is not None:
        _same("error status", expected.error_status, int(found.group(1)))
        assert (expected.error_text or "").startswith(found.group(2)), expected.error_text
        return
    if (found := re.search(r"in-band failure \((\w+)\)", said)) is not None:
        _same("in-band failure", expected.error_text, found.group(1))
        return
    found = re.search(r"(\d+) chars of text", said)
    if found is not None or "refusal" not in said:
        _same("text length", len(expected.text), int(found.group(1)) if found else 0)
    found = re.search(r"(\d+) chars of reasoning", said)
    chars = (
        len(expected.reasoning) if expected.reasoning_chars is None else expected.reasoning_chars
    )
    _same("reasoning length", chars, int(found.group(1)) if found else 0)
    found = re.search(r"\d+ tool calls? \(([^)]*)\)", said)
    names = found.group(1).split(", ") if found else []
    _same("tool calls", [c.name for c in expected.calls], names)
    has_usage = bool(re.search(r"\busage\b", said)) and "no usage recorded" not in said
    _same("usage present", expected.usage is not None, has_usage)
    details = re.search(r"usage with ([\w, ]+)", said)
    for name in details.group(1).split(", ") if details else ():
        if name in ("cached_input_tokens", "reasoning_tokens"):  # not "cost fields"
            assert getattr(expected.usage, name) > 0, f"{name} is 0 in {expected.usage}"


def check_replay(events: list[ev.Event], expected: Expected, requests: int) -> None:
    """Assert that a replayed generation gave what the recording holds.

    ``events`` is the whole generation (already through the order validator) and ``requests``
    the number of requests the server received. A recorded tool call must have been run with
    the tools of ``tools_for`` and the next request answered with ``FOLLOW_UP_TEXT``.
    """
    finished = finished_event(events)
    if expected.is_error:
        errors = events_of(events, ev.RequestError)
        assert len(errors) == 1, f"expected one RequestError, got {kinds_of(events)}"
        error = errors[0]
        _same("error status", error.status_code, expected.error_status)
        if expected.error_text is not None:
            assert expected.error_text in error.error, f"{expected.error_text!r} not in {error}"
        # A client error is final: the harness must not try again.
        assert not error.retryable, f"a retryable error: {error}"
        _same("retries", events_of(events, ev.RequestRetry), [])
        _same("requests", requests, 1)
        _same("status", finished.status, "error")
        return
    ends = [i for i, e in enumerate(events) if isinstance(e, (ev.RequestFinished, ev.RequestError))]
    first = events[: ends[0] + 1]
    end = first[-1]
    assert isinstance(end, ev.RequestFinished), f"the request ended with {end}"
    _same("request status", end.status, "completed")
    _same("text", text_of(first), expected.text)
    _same("reasoning", reasoning_of(first), expected.reasoning)
    started = events_of(first, ev.ToolCallStarted)
    _same(
        "tool calls",
        [(s.name, s.arguments) for s in started],
        [(c.name, dict(c.arguments)) for c in expected.calls],
    )
    for call, event in zip(expected.calls, started, strict=True):
        if call.id is not None:
            _same("tool call id", event.tool_call_id, call.id)
    results = [r.result for r in events_of(first, ev.ToolCallFinished)]
    _same("tool results", results, [TOOL_RESULT] * len(expected.calls))
    if expected.usage is not None:
        _same("usage", end.usage, expected.usage)
    if expected.finish_reason is not None:
        _same("finish reason", end.finish_reason, expected.finish_reason)
    _same("status", finished.status, "completed")
    _same("requests", requests, 2 if expected.calls else 1)
    if expected.calls:
        _same("answer after the tool round", text_of(events[ends[0] + 1 :]), FOLLOW_UP_TEXT)
