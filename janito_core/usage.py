"""Token counts reported by a provider."""

from __future__ import annotations

import attrs


@attrs.frozen(kw_only=True)
class Usage:
    """Token counts of one request, or of a generation when added up with ``+``."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    #: Input tokens written to the provider's prompt cache (priced apart where it charges them).
    #: Like ``cached_input_tokens``, a part of ``input_tokens``, never in addition to it: a
    #: driver whose provider counts them apart (Anthropic) adds them into ``input_tokens``.
    cache_write_tokens: int = 0
    #: True when a request's provider reported no usage: the counts are zeros, not measurements
    #: (never an estimate). A sum is missing if any of its parts is.
    missing: bool = False

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):
            return NotImplemented
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cached_input_tokens=self.cached_input_tokens + other.cached_input_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            missing=self.missing or other.missing,
        )
