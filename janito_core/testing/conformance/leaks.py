"""Where the suite looks for a leaked API key besides events: log records and exceptions."""

from __future__ import annotations

import logging
import traceback


class LogTexts(logging.Handler):
    """Keeps the text of every log record emitted while a test runs, tracebacks included."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        # Text, not records: a record's traceback would keep sockets and frames alive.
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:  # a record whose arguments do not fit its message: keep what is there
            text = f"{record.msg!r} {record.args!r}"
        self.texts.append(text)


def exception_texts(exc: BaseException) -> list[str]:
    """Every text an exception chain can show a user: messages, reprs, formatted traceback."""
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return texts
