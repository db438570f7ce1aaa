"""The drivers of the history matrix: how each one runs a tool-calling turn over loopback, and
what makes a recorded request valid for its provider.

Each source turn holds what its provider really streams around a tool call: reasoning text where
the provider streams it, one call, then (after the result) a final text. Provider-only data is
marked (a Gemini thought signature, an Anthropic thinking signature, OpenAI Responses item ids)
so a target can be checked for data that is not its own. Validity is checked against the SDKs'
own request types where they validate (google-genai's ``Content`` forbids unknown fields;
``mistralai``'s request model; OpenAI's param TypedDicts through pydantic), plus the rules
those types cannot express: every tool result answers a call of the assistant turn just before
it, ids in the form the provider demands, roles ordered as the provider demands.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from janito_core.testing.scenario import Call, Reasoning, Scenario, Text, WireAdapter
from janito_core.testing.server import Reply

__all__ = ["DRIVERS", "GEMINI_SIGNATURE", "Endpoint", "get_tide", "get_weather"]

# A thought signature as Gemini sends one (standard base64); it may reach only Gemini.
GEMINI_SIGNATURE = "R0VNSU5JLXNpZ25hdHVyZS1zZW50aW5lbA=="
# The thinking signature the Anthropic wire adapter streams; it may reach only Anthropic.
ANTHROPIC_SIGNATURE = "EqQBCkgIARABGAIiQFakeSignatureForLoopbackTestsOnly=="
# The dummy Google documents for function calls that no Gemini model signed.
GEMINI_DUMMY_SIGNATURE = "skip_thought_signature_validator"
CALL_ARGUMENTS = '{"city": "Oslo"}'
TIDE_ARGUMENTS = '{"port": "Oslo"}'
REASONING = "The user wants the weather; call the tool."
PREAMBLE = "Let me check. "
FINAL = "It is sunny in Oslo."
_MISTRAL_ID = re.compile(r"[A-Za-z0-9]{9}")
_ANTHROPIC_ID = re.compile(r"[a-zA-Z0-9_-]+")


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_tide(port: str) -> str:
    """The tide in a port (always fails: the matrix needs an error result)."""
    raise ValueError(f"no tide table for {port}")


@attrs.frozen
class Endpoint:
    """One driver of the matrix: its adapter, its source turn and its request check."""

    name: str
    module: str  # the driver's import package: the row is skipped without it
    adapter: Callable[[], WireAdapter]
    source: Callable[[WireAdapter], tuple[Reply, Reply]]
    check: Callable[[Mapping[str, Any], str], list[str]]  # (request body, source name)
    target: bool = True  # False: a source only (a variant of another driver's turn)
    reasoning: bool = True  # whether its source turn streams reasoning

    def available(self) -> str | None:
        """Why this driver cannot run here, or None."""
        try:
            found = importlib.util.find_spec(self.module) is not None
        except ImportError:
            found = False
        return None if found else f"{self.module} is not installed"


def _scenario_source(
    ids: tuple[str, str], reasoning: bool
) -> Callable[[WireAdapter], tuple[Reply, Reply]]:
    steps: tuple[Any, ...] = (
        Text(PREAMBLE),
        Call(name="get_weather", arguments=CALL_ARGUMENTS, id=ids[0]),
        Call(name="get_tide", arguments=TIDE_ARGUMENTS, id=ids[1]),
    )
    if reasoning:
        steps = (Reasoning(REASONING), *steps)

    def replies(adapter: WireAdapter) -> tuple[Reply, Reply]:
        return (
            adapter.reply(Scenario(steps=steps, finish_reason="tool_calls")),
            adapter.reply(Scenario(steps=(Text(FINAL),))),
        )

    return replies


def _gemini_source(adapter: WireAdapter) -> tuple[Reply, Reply]:
    # Gemini 2.5/3 as recorded: thoughts, text, then parallel calls without ids, only the
    # first signed; then the answer.
    import gemini_wire as gw

    weather = gw.call("get_weather", json.loads(CALL_ARGUMENTS), signature=GEMINI_SIGNATURE)
    first = gw.stream_reply(
        gw.chunk([gw.text(REASONING, thought=True)]),
        gw.chunk([gw.text(PREAMBLE)]),
        gw.chunk([weather, gw.call("get_tide", json.loads(TIDE_ARGUMENTS))]),
        gw.chunk([gw.text("")], finish="STOP"),
    )
    second = gw.stream_reply(gw.chunk([gw.text(FINAL)], finish="STOP"))
    return first, second


# -- checks ------------------------------------------------------------------------------------


def _common(body: Mapping[str, Any], target: str) -> list[str]:
    text = json.dumps(body)
    problems = []
    if target != "gemini" and GEMINI_SIGNATURE in text:
        problems.append("a Gemini thought signature was sent")
    if target != "anthropic" and ANTHROPIC_SIGNATURE in text:
        problems.append("an Anthropic thinking signature was sent")
    if "provider_data" in text:
        problems.append("janito's provider_data leaked into the body")
    return problems


def _answer_rule(
    turns: Sequence[tuple[str, list[str]]], problems: list[str], label: str = "tool result"
) -> None:
    """``turns``: ("calls", ids) for an assistant turn, ("results", ids) for the results after
    it. Each block of results must answer exactly the calls of the turn just before it."""
    pending: list[str] | None = None
    for kind, ids in turns:
        if kind == "calls":
            if pending:
                problems.append(f"calls {pending} were never answered")
            pending = list(ids)
        elif kind == "results":
            for call_id in ids:
                if pending is None or call_id not in pending:
                    problems.append(f"{label} {call_id!r} answers no call of the turn before it")
                else:
                    pending.remove(call_id)
        else:
            if pending:
                problems.append(f"calls {pending} were never answered")
            pending = None


def check_chat(body: Mapping[str, Any], source: str) -> list[str]:
    from openai.types.chat import ChatCompletionMessageParam
    from pydantic import TypeAdapter, ValidationError

    problems = _common(body, "openai-chat")
    messages = list(body.get("messages") or [])
    try:
        TypeAdapter(list[ChatCompletionMessageParam]).validate_python(messages)
    except ValidationError as exc:
        problems.append(f"not ChatCompletionMessageParam: {exc.errors()[:2]}")
    allowed = {
        "system": {"role", "content", "name"},
        "developer": {"role", "content", "name"},
        "user": {"role", "content", "name"},
        "assistant": {"role", "content", "name", "tool_calls", "refusal", "audio"},
        "tool": {"role", "content", "tool_call_id"},
    }
    turns: list[tuple[str, list[str]]] = []
    for m in messages:
        role = m.get("role")
        extra = set(m) - allowed.get(role, set())
        if extra:
            problems.append(f"{role} message has fields OpenAI does not take: {sorted(extra)}")
        if role == "assistant" and m.get("tool_calls"):
            for call in m["tool_calls"]:
                try:
                    json.loads(call["function"]["arguments"])
                except (KeyError, TypeError, ValueError):
                    problems.append(f"call {call.get('id')!r} has no JSON arguments text")
                if len(str(call.get("id"))) > 40:
                    problems.append(f"call id {call.get('id')!r} is longer than OpenAI's 40")
            turns.append(("calls", [c.get("id") for c in m["tool_calls"]]))
        elif role == "tool":
            if turns and turns[-1][0] == "results":
                turns[-1][1].append(m.get("tool_call_id"))
            else:
                turns.append(("results", [m.get("tool_call_id")]))
        else:
            turns.append(("other", []))
    _answer_rule(turns, problems)
    return problems


def check_responses(body: Mapping[str, Any], source: str) -> list[str]:
    from openai.types.responses import ResponseInputItemParam
    from pydantic import TypeAdapter, ValidationError

    problems = _common(body, "openai-responses")
    items = list(body.get("input") or [])
    try:
        TypeAdapter(list[ResponseInputItemParam]).validate_python(items)
    except ValidationError as exc:
        problems.append(f"not ResponseInputItemParam: {exc.errors()[:2]}")
    turns: list[tuple[str, list[str]]] = []
    for item in items:
        kind = item.get("type", "message")
        if kind == "function_call":
            item_id = item.get("id")
            if item_id is not None and not str(item_id).startswith("fc"):
                problems.append(f"function_call item id {item_id!r} does not begin with 'fc'")
            if turns and turns[-1][0] == "calls":
                turns[-1][1].append(item.get("call_id"))
            else:
                turns.append(("calls", [item.get("call_id")]))
        elif kind == "function_call_output":
            if turns and turns[-1][0] == "results":
                turns[-1][1].append(item.get("call_id"))
            else:
                turns.append(("results", [item.get("call_id")]))
        elif kind == "reasoning":
            # Only OpenAI's own (stored, or carrying its encrypted content) may go back.
            if not str(item.get("id", "")).startswith("rs_"):
                problems.append(f"a reasoning item OpenAI did not make: {item}")
        elif kind == "message" and item.get("role") == "assistant":
            continue  # the assistant's text of a call turn sits between its calls
        else:
            turns.append(("other", []))
    _answer_rule(turns, problems, "function_call_output")
    return problems


def check_mistral(body: Mapping[str, Any], source: str) -> list[str]:
    from mistralai.client.models import ChatCompletionStreamRequest
    from pydantic import ValidationError

    problems = _common(body, "mistral")
    try:
        ChatCompletionStreamRequest.model_validate(dict(body))
    except ValidationError as exc:
        problems.append(f"not a ChatCompletionStreamRequest: {exc.errors()[:2]}")
    turns: list[tuple[str, list[str]]] = []
    previous = None
    for index, m in enumerate(body.get("messages") or []):
        role = m.get("role")
        content = m.get("content")
        # Mistral's message order: "Unexpected role 'user' after role 'tool'".
        if previous == "tool" and role not in ("tool", "assistant"):
            problems.append(f"messages[{index}] is a {role!r} turn right after tool results")
        if role == "assistant" and not content and not m.get("tool_calls"):
            problems.append(
                f"messages[{index}] is an assistant turn with neither content nor calls"
            )
        previous = role
        if isinstance(content, list) and any(c.get("type") == "thinking" for c in content):
            problems.append("thinking chunks sent back (only Magistral models take them)")
        if role == "assistant" and m.get("tool_calls"):
            ids = [c.get("id") for c in m["tool_calls"]]
            for call_id in ids:
                if not _MISTRAL_ID.fullmatch(str(call_id)):
                    problems.append(f"call id {call_id!r} is not 9 letters or digits")
            turns.append(("calls", ids))
        elif role == "tool":
            call_id = m.get("tool_call_id")
            if not _MISTRAL_ID.fullmatch(str(call_id)):
                problems.append(f"tool_call_id {call_id!r} is not 9 letters or digits")
            if turns and turns[-1][0] == "results":
                turns[-1][1].append(call_id)
            else:
                turns.append(("results", [call_id]))
        else:
            turns.append(("other", []))
    _answer_rule(turns, problems)
    return problems


def check_gemini(body: Mapping[str, Any], source: str) -> list[str]:
    from google.genai import types
    from pydantic import ValidationError

    problems = _common(body, "gemini")
    contents = list(body.get("contents") or [])
    previous_calls: list[Mapping[str, Any]] | None = None
    for index, content in enumerate(contents):
        try:
            types.Content.model_validate(content)
        except ValidationError as exc:
            problems.append(f"contents[{index}] is not a Content: {exc.errors()[:2]}")
        role = content.get("role")
        if role not in ("user", "model"):
            problems.append(f"contents[{index}] has role {role!r}")
        if index and contents[index - 1].get("role") == role:
            problems.append(f"contents[{index - 1}] and [{index}] are both {role!r}")
        parts = content.get("parts") or []
        calls = [p for p in parts if "functionCall" in p]
        responses = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if calls and role != "model":
            problems.append(f"functionCall in a {role!r} content")
        if responses:
            if role != "user":
                problems.append(f"functionResponse in a {role!r} content")
            asked = [c["functionCall"] for c in previous_calls or []]
            if len(responses) != len(asked):
                problems.append(f"{len(responses)} responses for {len(asked)} calls")
            for response, call in zip(responses, asked, strict=False):
                if response.get("name") != call.get("name"):
                    problems.append(f"response {response.get('name')!r} for {call.get('name')!r}")
                if response.get("id") != call.get("id"):
                    problems.append(f"response id {response.get('id')!r} != {call.get('id')!r}")
        if calls:
            # Gemini 3 rejects a step whose first call carries no signature; a call no Gemini
            # model signed must carry the documented dummy instead.
            signature = calls[0].get("thoughtSignature")
            # ("chain": turns from every driver, Gemini's own among them.)
            expected = {
                "gemini": {GEMINI_SIGNATURE},
                "chain": {GEMINI_SIGNATURE, GEMINI_DUMMY_SIGNATURE},
            }.get(source, {GEMINI_DUMMY_SIGNATURE})
            if signature not in expected:
                problems.append(f"first functionCall signed {signature!r}, not {expected}")
        if any(p.get("thought") for p in parts) and source not in ("gemini", "chain"):
            problems.append("a foreign turn's reasoning sent as a Gemini thought")
        previous_calls = calls if role == "model" else None
    return problems


def check_anthropic(body: Mapping[str, Any], source: str) -> list[str]:
    from anthropic.types import MessageParam
    from pydantic import TypeAdapter, ValidationError

    problems = _common(body, "anthropic")
    messages = list(body.get("messages") or [])
    try:
        TypeAdapter(list[MessageParam]).validate_python(messages)
    except ValidationError as exc:
        problems.append(f"not MessageParam: {exc.errors()[:2]}")
    if messages and messages[0].get("role") != "user":
        problems.append("the first message is not a user turn")
    pending: list[str] = []
    for index, m in enumerate(messages):
        role = m.get("role")
        if index and messages[index - 1].get("role") == role:
            problems.append(f"messages[{index - 1}] and [{index}] are both {role!r}")
        blocks = m.get("content") if isinstance(m.get("content"), list) else []
        kinds = [b.get("type") for b in blocks]
        results = [b.get("tool_use_id") for b in blocks if b.get("type") == "tool_result"]
        if pending:
            # Every tool_use is answered in the very next message, its results first.
            if role != "user" or sorted(results) != sorted(pending):
                problems.append(f"tool_use {pending} not answered by messages[{index}]")
            if kinds[: len(results)] != ["tool_result"] * len(results):
                problems.append(f"messages[{index}] puts other blocks before its tool_results")
        elif results:
            problems.append(f"tool_result {results} answers no tool_use of the turn before")
        pending = []
        for block in blocks:
            kind = block.get("type")
            if kind == "tool_use":
                if not _ANTHROPIC_ID.fullmatch(str(block.get("id"))):
                    problems.append(f"tool_use id {block.get('id')!r} breaks ^[a-zA-Z0-9_-]+$")
                pending.append(block.get("id"))
            elif kind in ("thinking", "redacted_thinking") and (
                source not in ("anthropic", "chain")
                or (block.get("signature") != ANTHROPIC_SIGNATURE and not block.get("data"))
            ):
                problems.append(f"a {kind} block Anthropic did not sign")
    if pending:
        problems.append(f"tool_use {pending} never answered")
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") != "disabled" and messages:
        # With thinking on, the assistant turn of a tool loop still open (the request ends in
        # its results) must start with a thinking block, or Anthropic answers 400.
        last = messages[-1]
        blocks = last.get("content") if isinstance(last.get("content"), list) else []
        if last.get("role") == "user" and blocks and blocks[0].get("type") == "tool_result":
            opener = messages[-2].get("content") if len(messages) > 1 else None
            first = opener[0].get("type") if isinstance(opener, list) and opener else None
            if first not in ("thinking", "redacted_thinking"):
                problems.append(f"thinking is on but the open tool turn starts with {first!r}")
    return problems


def _anthropic_adapter() -> WireAdapter:
    import anthropic_wire

    return anthropic_wire.AnthropicWireAdapter()


def check_deepseek(body: Mapping[str, Any], source: str) -> list[str]:
    # DeepSeek answers 400 when a tool loop's assistant turn comes without reasoning_content
    # (the OpenAI driver's "reasoning_content" quirk); otherwise Chat's rules.
    problems = []
    for index, m in enumerate(body.get("messages") or []):
        if m.get("role") == "assistant" and m.get("tool_calls") and "reasoning_content" not in m:
            problems.append(f"messages[{index}] calls tools without reasoning_content")
    stripped = [
        {k: v for k, v in m.items() if k != "reasoning_content"} for m in body.get("messages") or []
    ]
    return problems + check_chat({**body, "messages": stripped}, source)


def _openai_adapter(kind: str) -> Callable[[], WireAdapter]:
    def make() -> WireAdapter:
        import openai_wire

        if kind == "chat":
            return openai_wire.ChatWireAdapter()
        if kind == "responses":
            return openai_wire.ResponsesWireAdapter()

        class PresetAdapter(openai_wire.ChatWireAdapter):
            model = "deepseek-chat"

            def make_driver(self, base_url: str, **config: Any) -> Any:
                from janito_core.registry import get_driver

                return get_driver(kind, api_key=self.api_key, base_url=base_url, **config)

        return PresetAdapter()

    return make


def _gemini_adapter() -> WireAdapter:
    import gemini_wire

    return gemini_wire.GeminiWireAdapter()


def _mistral_adapter() -> WireAdapter:
    import mistral_wire

    return mistral_wire.MistralWireAdapter()


# Call ids in each provider's own form.
CHAT_IDS = ("call_8fJ2kq0ZrT1mXw3vB6nYpL4d", "call_Xw3vB6nYpL4d8fJ2kq0ZrT1m")
RESPONSES_IDS = ("call_Qm7Zt2Lx9Kp4Rw1Vb8Nc3Hd5", "call_Rw1Vb8Nc3Hd5Qm7Zt2Lx9Kp4")
MISTRAL_IDS = ("D681PevKs", "k2Lx9Qm7Z")
DEEPSEEK_IDS = ("call_00_Vt2Zk8Qm3Lx9Rw1Pb4Nc7Hd", "call_01_Yp6Ws3Jr8Kq2Ln5Xt9Mv4Gb")
# What models behind OpenAI-compatible servers send (Kimi K2 on Groq, Together, Moonshot),
# from a model that streams no reasoning.
COMPATIBLE_IDS = ("functions.get_weather:0", "functions.get_tide:1")
ANTHROPIC_IDS = ("toolu_01A09q90qw90lq917835lq9a", "toolu_01T1x1fJ34qAmk2tNTrN7Up6")

DRIVERS: dict[str, Endpoint] = {
    "openai-chat": Endpoint(
        "openai-chat",
        "janito_driver_openai",
        _openai_adapter("chat"),
        _scenario_source(
            ("call_8fJ2kq0ZrT1mXw3vB6nYpL4d", "call_Xw3vB6nYpL4d8fJ2kq0ZrT1m"), reasoning=True
        ),
        check_chat,
    ),
    "openai-responses": Endpoint(
        "openai-responses",
        "janito_driver_openai",
        _openai_adapter("responses"),
        _scenario_source(
            ("call_Qm7Zt2Lx9Kp4Rw1Vb8Nc3Hd5", "call_Rw1Vb8Nc3Hd5Qm7Zt2Lx9Kp4"), reasoning=True
        ),
        check_responses,
    ),
    "gemini": Endpoint(
        "gemini", "janito_driver_gemini", _gemini_adapter, _gemini_source, check_gemini
    ),
    "mistral": Endpoint(
        "mistral",
        "janito_driver_mistral",
        _mistral_adapter,
        _scenario_source(MISTRAL_IDS, reasoning=True),
        check_mistral,
    ),
    "anthropic": Endpoint(
        "anthropic",
        "janito_driver_anthropic",
        _anthropic_adapter,
        _scenario_source(ANTHROPIC_IDS, reasoning=True),
        check_anthropic,
    ),
    "deepseek": Endpoint(
        "deepseek",
        "janito_driver_openai",
        _openai_adapter("deepseek"),
        _scenario_source(DEEPSEEK_IDS, reasoning=True),
        check_deepseek,
    ),
    "compatible-chat": Endpoint(
        "compatible-chat",
        "janito_driver_openai",
        _openai_adapter("chat"),
        _scenario_source(COMPATIBLE_IDS, reasoning=False),
        check_chat,
        target=False,
        reasoning=False,
    ),
}
