"""Gemini's streamed response: ``GenerateContentResponse`` chunks (REST JSON) → neutral parts.

Parts come out in exactly the order the chunks hold them: text, thoughts (``thought: true``)
and function calls interleaved as sent. Each chunk's ``usageMetadata`` is a running total, so
every change yields a ``UsagePart`` that replaces the last. At the end the turn's parts, thought
signatures included, are kept as ``MetadataPart({"gemini": {"parts": [...]}})`` so the next
request can send the model's turn back as Gemini wrote it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from janito_core.errors import ContentFilterError
from janito_core.parts import (
    FinishPart,
    MetadataPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    UsagePart,
)
from janito_core.retry import ErrorInfo, ProviderError
from janito_core.usage import Usage
from janito_driver_gemini.convert import PROVIDER_KEY, synthetic_call_id
from janito_driver_gemini.errors import describe_stream_error

__all__ = ["PROVIDER", "SAFETY_FINISH_REASONS", "ResponseReader", "finish_reason", "usage_from"]

#: How error messages name the other side.
PROVIDER = "Gemini"
_TEXT_KEYS = frozenset({"text", "thought", "thoughtSignature"})
# The token counts of usageMetadata that Usage is made of.
_COUNTS = (
    "promptTokenCount",
    "candidatesTokenCount",
    "thoughtsTokenCount",
    "totalTokenCount",
    "cachedContentTokenCount",
    "toolUsePromptTokenCount",
)

# Finish reasons that mean Gemini withheld (part of) the answer.
SAFETY_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
    }
)


def usage_from(metadata: Mapping[str, Any]) -> Usage | None:
    """``usageMetadata`` as a ``Usage``; None when it holds no token count (a blocked prompt's
    may hold only ``trafficType``), which is no usage at all.

    Gemini bills thinking as output, so output counts the answer and the thinking
    (``candidatesTokenCount`` + ``thoughtsTokenCount``) and ``reasoning_tokens`` the thinking
    alone. Input is ``promptTokenCount`` (which Google's reference says includes the cached
    content, ``cachedContentTokenCount``) + ``toolUsePromptTokenCount`` (the results of
    Google's own tools, such as search, read back as prompt and billed as input), so input +
    output = ``totalTokenCount``, which is taken as sent. Gemini reports no cache writes.
    """
    if not any(key in metadata for key in _COUNTS):
        return None
    prompt = _count(metadata, "promptTokenCount") + _count(metadata, "toolUsePromptTokenCount")
    thoughts = _count(metadata, "thoughtsTokenCount")
    output = _count(metadata, "candidatesTokenCount") + thoughts
    # The sum is what Gemini's total is made of; it only stands in should a total be missing.
    total = _count(metadata, "totalTokenCount") if "totalTokenCount" in metadata else None
    return Usage(
        input_tokens=prompt,
        output_tokens=output,
        total_tokens=prompt + output if total is None else total,
        cached_input_tokens=_count(metadata, "cachedContentTokenCount"),
        reasoning_tokens=thoughts,
    )


def _count(metadata: Mapping[str, Any], key: str) -> int:
    value = metadata.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def finish_reason(gemini_reason: str, *, made_calls: bool) -> str:
    """The neutral finish reason for Gemini's ``finishReason``.

    Gemini says ``STOP`` after function calls too; the neutral word is then ``tool_calls``.
    """
    if gemini_reason == "STOP":
        return "tool_calls" if made_calls else "stop"
    if gemini_reason == "MAX_TOKENS":
        return "length"
    if gemini_reason in SAFETY_FINISH_REASONS:
        return "content_filter"
    return gemini_reason.lower()


class ResponseReader:
    """Reads one response: ``feed`` each chunk until ``finished``, then ``finish``. Failures
    are raised as ``ProviderError``.

    ``model`` and ``key_variable`` go into the hints of an error sent inside the stream.
    """

    def __init__(self, request_id: str, *, model: str, key_variable: str) -> None:
        self._request_id = request_id
        self._model = model
        self._key_variable = key_variable
        self._parts: list[dict[str, Any]] = []
        # The text part still growing at the end of _parts, and its pieces, joined once.
        self._open: dict[str, Any] | None = None
        self._pieces: list[str] = []
        self._calls = 0
        self._delivered = False
        self._usage: Usage | None = None
        self._finish: str | None = None
        self._block: tuple[str, str | None] | None = None
        self._response_id: str | None = None
        self._model_version: str | None = None

    @property
    def finished(self) -> bool:
        """True once a chunk gave the finish reason: the answer is whole, read no further.

        Gemini sends nothing after that chunk but the end of the body, so a connection cut
        there loses nothing.
        """
        return self._finish is not None

    def feed(self, chunk: dict[str, Any]) -> list[Part]:
        """The parts of one chunk (a ``GenerateContentResponse`` as parsed JSON), in order,
        then its usage; an ``{"error": ...}`` object is raised as the error it reports."""
        get = chunk.get
        if "error" in chunk and "candidates" not in chunk:
            raise ProviderError(
                describe_stream_error(chunk, key_variable=self._key_variable, model=self._model)
            )
        out: list[Part] = []
        candidates = get("candidates")
        if candidates and isinstance(candidates, list) and isinstance(candidates[0], dict):
            candidate = candidates[0]
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            if isinstance(parts, list):
                for part in parts:
                    if isinstance(part, dict):
                        made = self._part(part)
                        if made is not None:
                            out.append(made)
            reason = candidate.get("finishReason")
            if reason:
                self._finish = str(reason)
        metadata = get("usageMetadata")
        if isinstance(metadata, dict):
            usage = usage_from(metadata)
            if usage is not None and usage != self._usage:
                self._usage = usage
                out.append(UsagePart(usage))
        self._response_id = get("responseId") or self._response_id
        self._model_version = get("modelVersion") or self._model_version
        feedback = get("promptFeedback")
        if isinstance(feedback, dict) and feedback.get("blockReason"):
            self._block = (str(feedback["blockReason"]), feedback.get("blockReasonMessage"))
        return out

    def finish(self) -> list[Part]:
        """The closing parts; none without a finish reason, which leaves the answer incomplete.

        Raises ``ProviderError`` when Gemini withheld the whole answer.
        """
        if self._block is not None and not self._delivered:
            reason, detail = self._block
            message = (
                f"Gemini blocked the prompt (block reason: {reason})"
                + (f": {detail}" if detail else "")
                + "; rephrase the prompt or review the safety settings"
            )
            raise ProviderError(ErrorInfo(message=message, kind=ContentFilterError))
        if self._finish is None:
            return []  # the core reports the missing end as a cut, retried if nothing came
        if self._finish in SAFETY_FINISH_REASONS and not self._delivered:
            message = (
                f"Gemini withheld the answer (finish reason: {self._finish}); "
                "rephrase the prompt or review the safety settings"
            )
            raise ProviderError(ErrorInfo(message=message, kind=ContentFilterError))
        self._close_text()
        data: dict[str, Any] = {"parts": self._parts, "finish_reason": self._finish}
        if self._response_id:
            data["response_id"] = self._response_id
        if self._model_version:
            data["model_version"] = self._model_version
        return [
            MetadataPart({PROVIDER_KEY: data}),
            FinishPart(finish_reason(self._finish, made_calls=self._calls > 0)),
        ]

    def _part(self, wire_part: dict[str, Any]) -> Part | None:
        text = wire_part.get("text")
        if isinstance(text, str) and wire_part.keys() <= _TEXT_KEYS:
            self._record_text(wire_part, text)
        else:
            self._close_text()
            part = _kept(wire_part)
            self._parts.append(part)
            function_call = part.get("functionCall")
            if isinstance(function_call, dict):
                return self._call(function_call, part.get("thoughtSignature"))
        if not isinstance(text, str) or not text:
            return None
        self._delivered = True
        return ReasoningPart(text) if wire_part.get("thought") else TextPart(text)

    def _call(self, function_call: dict[str, Any], signature: Any) -> ToolCallPart:
        position = self._calls
        self._calls += 1
        self._delivered = True
        given = function_call.get("id")
        data: dict[str, Any] = {"synthetic_id": not given}
        if isinstance(signature, str) and signature:
            data["thought_signature"] = signature
        args = function_call.get("args")
        return ToolCallPart(
            id=given or synthetic_call_id(self._request_id, position),
            name=str(function_call.get("name") or ""),
            # Its own copy: the history keeps the recorded part's.
            arguments=json.loads(json.dumps(args)) if isinstance(args, dict) else {},
            provider_data={PROVIDER_KEY: data},
        )

    def _record_text(self, wire_part: dict[str, Any], text: str) -> None:
        """Keep a text part for the history, joining streamed pieces back together.

        Neighbouring text parts of the same kind (answer or thought) are joined, as the
        non-streamed response would hold them; a thought signature stays on the joined part.
        """
        signed = "thoughtSignature" in wire_part
        last = self._open
        if (
            last is not None
            and bool(last.get("thought")) == bool(wire_part.get("thought"))
            and not (signed and "thoughtSignature" in last)
        ):
            self._pieces.append(text)
            if signed:
                last["thoughtSignature"] = _kept(wire_part)["thoughtSignature"]
            return
        if not text and not signed:
            return
        self._close_text()
        self._open = _kept(wire_part)
        self._parts.append(self._open)
        self._pieces = [text]

    def _close_text(self) -> None:
        if self._open is not None:
            self._open["text"] = "".join(self._pieces)
            self._open = None
            self._pieces = []


def _kept(wire_part: dict[str, Any]) -> dict[str, Any]:
    """A copy of a part for the history: shallow, since only its own keys change."""
    part = dict(wire_part)
    signature = part.get("thoughtSignature")
    if isinstance(signature, str):
        part["thoughtSignature"] = _standard_base64(signature)
    return part


def _standard_base64(text: str) -> str:
    """``text`` in the standard base64 alphabet Google sends.

    The SDK holds signatures as bytes and writes them URL-safe; either decodes to the same
    bytes, but the kept copy should read like the wire.
    """
    try:
        return base64.b64encode(base64.urlsafe_b64decode(text)).decode("ascii")
    except (binascii.Error, ValueError):
        return text
