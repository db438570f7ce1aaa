"""Gemini's streamed ``GenerateContentResponse`` chunks (REST JSON) → neutral parts.

Parts come out in exactly the order the chunks hold them: text, thoughts (``thought: true``)
and function calls interleaved as sent. Each chunk's ``usageMetadata`` is a running total, so
every one yields a ``UsagePart`` that replaces the last. At the end the turn's parts, thought
signatures included, are kept as ``MetadataPart({"gemini": {"parts": [...]}})`` so the next
request can send the model's turn back as Gemini wrote it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

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

__all__ = ["SAFETY_FINISH_REASONS", "ResponseReader", "finish_reason", "usage_from"]

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


def usage_from(metadata: Mapping[str, Any]) -> Usage:
    """``usageMetadata`` as a ``Usage``.

    Output counts the answer and the thinking (``candidatesTokenCount`` +
    ``thoughtsTokenCount``), so input + output = ``totalTokenCount`` as with other providers;
    ``reasoning_tokens`` is the thinking alone. Tool-use prompt tokens count as input.
    """
    prompt = _count(metadata, "promptTokenCount") + _count(metadata, "toolUsePromptTokenCount")
    thoughts = _count(metadata, "thoughtsTokenCount")
    output = _count(metadata, "candidatesTokenCount") + thoughts
    total = _count(metadata, "totalTokenCount") or prompt + output
    return Usage(
        input_tokens=prompt,
        output_tokens=output,
        total_tokens=total,
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
    """Reads one streamed response: ``feed`` each chunk, then ``finish``."""

    def __init__(self, request_id: str) -> None:
        self._request_id = request_id
        self._parts: list[dict[str, Any]] = []
        self._calls = 0
        self._delivered = False
        self._usage: Usage | None = None
        self._finish: str | None = None
        self._block: tuple[str, str | None] | None = None
        self._response_id: str | None = None
        self._model_version: str | None = None

    def feed(self, chunk: Mapping[str, Any]) -> list[Part]:
        """The parts of one chunk, in order, then its usage."""
        out: list[Part] = []
        self._response_id = chunk.get("responseId") or self._response_id
        self._model_version = chunk.get("modelVersion") or self._model_version
        feedback = chunk.get("promptFeedback")
        if isinstance(feedback, Mapping) and feedback.get("blockReason"):
            self._block = (str(feedback["blockReason"]), feedback.get("blockReasonMessage"))
        candidates = chunk.get("candidates")
        candidate = candidates[0] if isinstance(candidates, list) and candidates else None
        if isinstance(candidate, Mapping):
            content = candidate.get("content")
            parts = content.get("parts") if isinstance(content, Mapping) else None
            for part in parts if isinstance(parts, list) else ():
                if isinstance(part, Mapping):
                    out.extend(self._part(part))
            if candidate.get("finishReason"):
                self._finish = str(candidate["finishReason"])
        metadata = chunk.get("usageMetadata")
        if isinstance(metadata, Mapping):
            usage = usage_from(metadata)
            if usage != self._usage:
                self._usage = usage
                out.append(UsagePart(usage))
        return out

    def finish(self) -> list[Part]:
        """The closing parts; raises ``ProviderError`` when there is no answer to give."""
        if self._block is not None and not self._delivered:
            reason, detail = self._block
            message = (
                f"Gemini blocked the prompt (block reason: {reason})"
                + (f": {detail}" if detail else "")
                + "; rephrase the prompt or review the safety settings"
            )
            raise ProviderError(ErrorInfo(message=message, retryable=False))
        if self._finish is None:
            raise ProviderError(
                ErrorInfo(
                    message="the Gemini stream ended without a finish reason "
                    "(the connection was probably cut)",
                    retryable=True,
                )
            )
        if self._finish in SAFETY_FINISH_REASONS and not self._delivered:
            message = (
                f"Gemini withheld the answer (finish reason: {self._finish}); "
                "rephrase the prompt or review the safety settings"
            )
            raise ProviderError(ErrorInfo(message=message, retryable=False))
        data: dict[str, Any] = {"parts": self._parts, "finish_reason": self._finish}
        if self._response_id:
            data["response_id"] = self._response_id
        if self._model_version:
            data["model_version"] = self._model_version
        return [
            MetadataPart({PROVIDER_KEY: data}),
            FinishPart(finish_reason(self._finish, made_calls=self._calls > 0)),
        ]

    def _part(self, wire_part: Mapping[str, Any]) -> list[Part]:
        part: dict[str, Any] = json.loads(json.dumps(wire_part))  # ours to keep and join
        if isinstance(part.get("thoughtSignature"), str):
            part["thoughtSignature"] = _standard_base64(part["thoughtSignature"])
        self._record(part)
        function_call = part.get("functionCall")
        if isinstance(function_call, Mapping):
            return [self._call(function_call, part.get("thoughtSignature"))]
        text = part.get("text")
        if isinstance(text, str) and text:
            self._delivered = True
            return [ReasoningPart(text) if part.get("thought") else TextPart(text)]
        return []

    def _call(self, function_call: Mapping[str, Any], signature: Any) -> ToolCallPart:
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
            arguments=json.loads(json.dumps(args)) if isinstance(args, Mapping) else {},
            provider_data={PROVIDER_KEY: data},
        )

    def _record(self, part: dict[str, Any]) -> None:
        """Keep ``part`` for the history, joining streamed text pieces back together.

        Neighbouring text parts of the same kind (answer or thought) are joined, as the
        non-streamed response would hold them; a thought signature stays on the joined part.
        """
        text = part.get("text")
        is_text = isinstance(text, str) and set(part) <= {"text", "thought", "thoughtSignature"}
        if is_text:
            last = self._parts[-1] if self._parts else None
            if (
                last is not None
                and isinstance(last.get("text"), str)
                and set(last) <= {"text", "thought", "thoughtSignature"}
                and bool(last.get("thought")) == bool(part.get("thought"))
                and not ("thoughtSignature" in last and "thoughtSignature" in part)
            ):
                last["text"] += text
                if "thoughtSignature" in part:
                    last["thoughtSignature"] = part["thoughtSignature"]
                return
            if not text and "thoughtSignature" not in part:
                return
        self._parts.append(part)


def _standard_base64(text: str) -> str:
    """``text`` in the standard base64 alphabet Google sends.

    The SDK holds signatures as bytes and writes them URL-safe; either decodes to the same
    bytes, but the kept copy should read like the wire.
    """
    try:
        return base64.b64encode(base64.urlsafe_b64decode(text)).decode("ascii")
    except (binascii.Error, ValueError):
        return text
