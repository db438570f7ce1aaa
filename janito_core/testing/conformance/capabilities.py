"""The capabilities an adapter may declare unsupported in ``WireAdapter.unsupported``."""

from __future__ import annotations

#: The provider streams its thinking as separate events.
REASONING = "reasoning"
#: The wire carries tool arguments as JSON text, so a model can send text that is not JSON.
INVALID_JSON_ARGUMENTS = "invalid_json_arguments"
#: One response can hold text after a tool call (text, call, text).
TEXT_AFTER_TOOL_CALL = "text_after_tool_call"
#: One response can hold two tool calls.
PARALLEL_TOOL_CALLS = "parallel_tool_calls"
#: The provider reports token usage in its stream.
USAGE = "usage"
#: The provider says how long to wait on a 429 (a header or a field the driver reads).
RETRY_AFTER = "retry_after"
#: The wire can carry a malformed event that the driver must reject (not skip).
MALFORMED_EVENT = "malformed_event"
#: The provider marks a complete response (an end event, ``[DONE]``, a finish reason, a last
#: line), so a body that stops cleanly between two events can be told from a whole answer.
END_MARKER = "end_marker"

#: The driver sends images (``image/png``, ``image/jpeg``) from their bytes.
IMAGE_INPUT = "image_input"
#: The driver sends a PDF (``application/pdf``) from its bytes.
PDF_INPUT = "pdf_input"
#: The driver sends audio (``audio/wav``) from its bytes.
AUDIO_INPUT = "audio_input"
#: The provider fetches an image from a URL the driver passes on (``accepts_urls``).
IMAGE_URL_INPUT = "image_url_input"
#: The provider constrains its answer to a JSON Schema (native structured output).
STRUCTURED_OUTPUT = "structured_output"

CAPABILITIES = frozenset(
    {
        IMAGE_INPUT,
        PDF_INPUT,
        AUDIO_INPUT,
        IMAGE_URL_INPUT,
        STRUCTURED_OUTPUT,
        REASONING,
        INVALID_JSON_ARGUMENTS,
        TEXT_AFTER_TOOL_CALL,
        PARALLEL_TOOL_CALLS,
        USAGE,
        RETRY_AFTER,
        MALFORMED_EVENT,
        END_MARKER,
    }
)
