"""The Chat Completions reader's old home, kept for ``bench/overhead.py``: the reader is
``janito_core.chat_completions.ChatCompletionsReader`` now."""

from __future__ import annotations

from janito_core.chat_completions import ChatCompletionsReader

__all__ = ["ChatReader"]


class ChatReader(ChatCompletionsReader):
    """``ChatCompletionsReader`` under its old name, with ``feed`` for ``chunk``."""

    feed = ChatCompletionsReader.chunk
