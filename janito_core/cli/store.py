"""The command line's conversation store: one SQLite file, ``logs.db``, in the user's data folder.

Each ``run`` adds an exchange: the prompt, the answer, the driver and model, the status, the
usage and the messages (the user turn and the turns the generation added, every
``janito_core.Message`` field as JSON), so ``run -c`` can send the same history again. No driver
configuration is written, and the driver's API key is masked in everything that is: the key is
never stored. Only ``run`` and ``logs`` import this module (``sqlite3`` costs start-up time).

The folder is ``$JANITO_HOME`` when set, else the platform's per-user data folder:
``$XDG_DATA_HOME/janito`` or ``~/.local/share/janito`` (Linux and other Unixes),
``~/Library/Application Support/janito`` (macOS), ``%LOCALAPPDATA%\\janito`` (Windows).
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from janito_core.attachments import Attachment
from janito_core.messages import Message, ToolCall
from janito_core.redact import redact
from janito_core.usage import Usage

__all__ = ["Conversation", "Exchange", "Store", "StoreError", "data_dir", "database_path"]

FILENAME = "logs.db"
SCHEMA_VERSION = 1
# Another janito-drivers writing at the same moment holds the lock for milliseconds.
BUSY_TIMEOUT = 5.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    started REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS exchanges (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    started REAL NOT NULL,
    duration REAL NOT NULL,
    driver TEXT NOT NULL,
    model TEXT NOT NULL,
    system TEXT,
    prompt TEXT NOT NULL,
    answer TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL,
    finish_reason TEXT,
    error TEXT,
    usage TEXT NOT NULL,
    messages TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exchanges_by_conversation ON exchanges(conversation_id, id);
"""


class StoreError(Exception):
    """The store cannot be opened, read or written; the text says which file and why."""


def data_dir(
    environ: Mapping[str, str] | None = None, platform: str | None = None, home: Path | None = None
) -> Path:
    """The folder of the command line's files (see the module's docstring for the rule)."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if env.get("JANITO_HOME"):
        return Path(env["JANITO_HOME"]).expanduser()
    home = Path.home() if home is None else home
    if platform == "win32":
        base = Path(env["LOCALAPPDATA"]) if env.get("LOCALAPPDATA") else home / "AppData" / "Local"
    elif platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = env.get("XDG_DATA_HOME", "")
        # The XDG spec says a relative path is invalid and must be ignored.
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / "janito"


def database_path() -> Path:
    """Where ``logs.db`` is (or will be)."""
    return data_dir() / FILENAME


@attrs.frozen(kw_only=True)
class Exchange:
    """One ``run``: what was asked, what came back, and the turns to send again with ``-c``."""

    conversation_id: str
    started: float
    duration: float
    driver: str
    model: str
    system: str | None
    prompt: str
    answer: str
    options: Mapping[str, Any] = attrs.field(factory=dict)
    status: str
    finish_reason: str | None = None
    error: str | None = None
    usage: Usage = attrs.field(factory=Usage)
    messages: tuple[Message, ...] = ()
    id: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``logs --json`` prints)."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "started": _iso(self.started),
            "duration_ms": round(self.duration * 1000),
            "driver": self.driver,
            "model": self.model,
            "system": self.system,
            "prompt": self.prompt,
            "answer": self.answer,
            "options": dict(self.options),
            "status": self.status,
            "finish_reason": self.finish_reason,
            "error": self.error,
            "usage": attrs.asdict(self.usage),
            "messages": [message_to_json(m) for m in self.messages],
        }


@attrs.frozen(kw_only=True)
class Conversation:
    """A conversation's exchanges, oldest first."""

    id: str
    exchanges: tuple[Exchange, ...]

    @property
    def history(self) -> list[Message]:
        """The turns to send again: those of the exchanges that completed.

        A cancelled or failed exchange stays in the logs but is not sent back: its question was
        never answered, and a half answer would mislead the model.
        """
        return [m for e in self.exchanges if e.status == "completed" for m in e.messages]

    @property
    def last(self) -> Exchange:
        """The most recent exchange (its driver, model and system prompt carry over)."""
        return self.exchanges[-1]


def new_conversation_id() -> str:
    """A short random id: enough for one user's conversations, short enough to type."""
    return os.urandom(6).hex()


class Store:
    """The SQLite file; open with ``Store.open()``, close with ``close()`` or ``with``."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path | None = None, *, create: bool = True) -> Store:
        """Open (and with ``create``, make) the store; raises ``StoreError``."""
        path = database_path() if path is None else path
        if not create and not path.exists():
            raise StoreError(f"no logs yet ({path} does not exist)")
        try:
            if create:
                # Conversations are private: the folder and the file are the user's alone.
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not path.exists():
                    path.touch(mode=0o600)
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT)
            store = cls(connection, path)
            store._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open {path}: {exc}") from exc
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file."""
        self._db.close()

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer janito-drivers (schema {version});"
                " upgrade janito-core to read it"
            )
        if version < SCHEMA_VERSION:
            with self._db:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def add(self, exchange: Exchange, *, secrets: tuple[str | None, ...] = ()) -> int:
        """Append an exchange (and its conversation, if new); returns its id.

        Every text written goes through ``redact`` with ``secrets`` (the driver's key).
        """

        def clean(text: str) -> str:
            return redact(text, *secrets)

        def clean_json(value: Any) -> str:
            return clean(json.dumps(value, ensure_ascii=False, default=_plain))

        try:
            row = (
                exchange.conversation_id,
                exchange.started,
                exchange.duration,
                exchange.driver,
                exchange.model,
                None if exchange.system is None else clean(exchange.system),
                clean(exchange.prompt),
                clean(exchange.answer),
                clean_json(dict(exchange.options)),
                exchange.status,
                exchange.finish_reason,
                None if exchange.error is None else clean(exchange.error),
                json.dumps(attrs.asdict(exchange.usage)),
                clean_json([message_to_json(m) for m in exchange.messages]),
            )
        except (TypeError, ValueError) as exc:  # a driver's provider_data that is not JSON
            raise StoreError(f"cannot write this exchange as JSON: {exc}") from exc
        try:
            with self._db:
                self._db.execute(
                    "INSERT OR IGNORE INTO conversations (id, started) VALUES (?, ?)",
                    (exchange.conversation_id, exchange.started),
                )
                cursor = self._db.execute(
                    "INSERT INTO exchanges (conversation_id, started, duration, driver, model,"
                    " system, prompt, answer, options, status, finish_reason, error, usage,"
                    " messages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {self.path}: {exc}") from exc
        return int(cursor.lastrowid or 0)

    def conversation(self, cid: str | None = None) -> Conversation | None:
        """The conversation whose id is or starts with ``cid``; the latest one when None.

        Returns None when there is none; raises ``StoreError`` when a prefix is ambiguous.
        """
        try:
            if cid is None:
                found = self._db.execute(
                    "SELECT conversation_id FROM exchanges ORDER BY id DESC LIMIT 1"
                ).fetchall()
            else:
                found = (
                    self._db.execute("SELECT id FROM conversations WHERE id = ?", (cid,)).fetchall()
                    or self._db.execute(
                        "SELECT id FROM conversations WHERE substr(id, 1, ?) = ? LIMIT 2",
                        (len(cid), cid),
                    ).fetchall()
                )
            if len(found) > 1:
                raise StoreError(f"more than one conversation starts with {cid!r}; give more of it")
            if not found:
                return None
            (conversation_id,) = found[0]
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM exchanges WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc
        return Conversation(id=conversation_id, exchanges=tuple(_exchange(r) for r in rows))

    def recent(self, count: int, cid: str | None = None) -> list[Exchange]:
        """The last ``count`` exchanges (all when 0), oldest first; of one conversation if given."""
        if cid is not None:
            conversation = self.conversation(cid)
            exchanges = list(conversation.exchanges) if conversation else []
            return exchanges[-count:] if count else exchanges
        limit = count if count > 0 else -1
        try:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM exchanges ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc
        return [_exchange(r) for r in reversed(rows)]


_COLUMNS = (
    "id, conversation_id, started, duration, driver, model, system, prompt, answer, options,"
    " status, finish_reason, error, usage, messages"
)


def _exchange(row: tuple[Any, ...]) -> Exchange:
    (id_, cid, started, duration, driver, model, system, prompt, answer) = row[:9]
    (options, status, finish_reason, error, usage, messages) = row[9:]
    return Exchange(
        id=id_,
        conversation_id=cid,
        started=started,
        duration=duration,
        driver=driver,
        model=model,
        system=system,
        prompt=prompt,
        answer=answer,
        options=json.loads(options),
        status=status,
        finish_reason=finish_reason,
        error=error,
        usage=_usage(json.loads(usage)),
        messages=tuple(message_from_json(m) for m in json.loads(messages)),
    )


def _usage(data: Mapping[str, Any]) -> Usage:
    fields = {f.name: f.type for f in attrs.fields(Usage)}
    counts: dict[str, Any] = {
        k: v
        for k, v in data.items()
        if k in fields and isinstance(v, int) and not isinstance(v, bool)
    }
    if isinstance(data.get("missing"), bool):
        counts["missing"] = data["missing"]
    return Usage(**counts)


def message_to_json(message: Message) -> dict[str, Any]:
    """Every field of ``message`` (tool calls included) as JSON-ready values.

    ``parts`` is written only for a turn with attachments (else it is just ``content``); an
    attachment keeps its bytes, base64, so ``run -c`` can send it again.
    """
    data = attrs.asdict(message, recurse=True, filter=lambda a, _: a.name != "parts")
    if message.attachments:
        data["parts"] = [p if isinstance(p, str) else _attachment_to_json(p) for p in message.parts]
    return data


def _attachment_to_json(attachment: Attachment) -> dict[str, Any]:
    data: dict[str, Any] = {"media_type": attachment.media_type, "filename": attachment.filename}
    if attachment.url is not None:
        data["url"] = attachment.url
    else:
        data["base64"] = attachment.base64()
    return data


def _attachment_from_json(data: Mapping[str, Any]) -> Attachment:
    if "url" in data:
        return Attachment(
            media_type=data["media_type"], url=data["url"], filename=data.get("filename")
        )
    return Attachment(
        media_type=data["media_type"],
        data=base64.b64decode(data["base64"]),
        filename=data.get("filename"),
    )


def message_from_json(data: Mapping[str, Any]) -> Message:
    """The ``Message`` that ``message_to_json`` wrote; fields this version does not know are
    left out, so a store written by a newer version still loads."""
    fields = {f.name for f in attrs.fields(Message)}
    values = {k: v for k, v in data.items() if k in fields}
    call_fields = {f.name for f in attrs.fields(ToolCall)}
    values["tool_calls"] = tuple(
        ToolCall(**{k: v for k, v in call.items() if k in call_fields})
        for call in values.get("tool_calls") or ()
    )
    if "parts" in values:
        values["parts"] = tuple(
            p if isinstance(p, str) else _attachment_from_json(p) for p in values["parts"]
        )
    return Message(**values)


def _plain(value: object) -> object:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))
