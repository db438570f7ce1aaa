"""HTTP-level quirks applied to a provider's reply: the same for every wire format.

The conformance suite asks a ``WireAdapter`` for a reply in its provider's format, then bends it
the way real servers and networks do: a wrong charset, a byte order mark, a character split
across two writes, a body ended by closing the connection, a connection cut after the end, late
headers, or a hang-up before any answer. None of this needs the provider's format, so adapters
never implement it.
"""

from __future__ import annotations

import dataclasses

from janito_core.testing.server import Drop, Reply, Send

__all__ = [
    "BOM",
    "body_bytes",
    "close_delimited",
    "content_type",
    "cut_at_end",
    "emptied",
    "hang_up",
    "late_headers",
    "split_inside",
    "with_bom",
    "with_charset",
]

#: The UTF-8 byte order mark some servers put before the first byte of a body.
BOM = b"\xef\xbb\xbf"


def _bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def _sends(reply: Reply) -> list[Send]:
    sends = [step for step in reply.steps if isinstance(step, Send)]
    if not sends:
        raise ValueError("the reply streams nothing: it has no Send step to change")
    return sends


def body_bytes(reply: Reply) -> bytes:
    """Every byte the reply's ``Send`` steps write, in order (no HTTP framing)."""
    return b"".join(_bytes(step.data) for step in reply.steps if isinstance(step, Send))


def content_type(reply: Reply) -> str:
    """The Content-Type the server sends for ``reply``: its own header, else the default."""
    for name, value in reply.headers.items():
        if name.lower() == "content-type":
            return value
    return "text/event-stream" if reply.steps else "application/json"


def _headers_with(reply: Reply, name: str, value: str) -> dict[str, str]:
    headers = {k: v for k, v in reply.headers.items() if k.lower() != name.lower()}
    headers[name] = value
    return headers


def with_charset(reply: Reply, charset: str) -> Reply:
    """``reply`` with ``charset`` in its Content-Type, its bytes unchanged (still UTF-8)."""
    media_type = content_type(reply).split(";", 1)[0].strip()
    return dataclasses.replace(
        reply, headers=_headers_with(reply, "Content-Type", f"{media_type}; charset={charset}")
    )


def with_bom(reply: Reply) -> Reply:
    """``reply`` with a UTF-8 byte order mark before its first byte."""
    first = _sends(reply)[0]
    steps = [
        Send(BOM + _bytes(step.data), delay=step.delay) if step is first else step
        for step in reply.steps
    ]
    return dataclasses.replace(reply, steps=steps)


def split_inside(reply: Reply, char: str, *, gap: float) -> Reply:
    """``reply`` with the first write holding ``char`` cut in two inside that character.

    The second half goes out ``gap`` seconds later, so the client reads the halves apart: a
    reader that decodes each read on its own turns the character into garbage. Raises
    ``LookupError`` when ``char`` is not written raw (a JSON writer escaped it).
    """
    encoded = char.encode("utf-8")
    if len(encoded) < 2:
        raise ValueError(f"{char!r} is one byte in UTF-8: there is nothing to split")
    for index, step in enumerate(reply.steps):
        if not isinstance(step, Send):
            continue
        data = _bytes(step.data)
        at = data.find(encoded)
        if at < 0:
            continue
        cut = at + len(encoded) // 2
        halves = [Send(data[:cut], delay=step.delay), Send(data[cut:], delay=gap)]
        steps = [*reply.steps[:index], *halves, *reply.steps[index + 1 :]]
        return dataclasses.replace(reply, steps=steps)
    raise LookupError(f"no write of the reply holds {char!r} raw")


def close_delimited(reply: Reply) -> Reply:
    """``reply`` with no length nor chunking: its body ends when the server closes."""
    return dataclasses.replace(reply, framing="close")


def emptied(reply: Reply, *, length: bool = False) -> Reply:
    """``reply``'s status and headers with a body of no bytes at all (a clean, empty 200).

    The body stays a stream (chunked, or close-delimited), unless ``length``: then it is sent
    with ``Content-Length: 0``.
    """
    if length:
        headers = _headers_with(reply, "Content-Type", content_type(reply))
        return dataclasses.replace(reply, headers=headers, steps=[], body=b"")
    # An empty Send keeps the reply a stream but writes nothing.
    return dataclasses.replace(reply, steps=[Send(b"")], body=None)


def cut_at_end(reply: Reply, *, reset: bool = False) -> Reply:
    """``reply`` whose connection drops right after its last write, instead of ending cleanly."""
    _sends(reply)
    steps = [step for step in reply.steps if not isinstance(step, Drop)]
    return dataclasses.replace(reply, steps=[*steps, Drop(reset=reset)])


def late_headers(reply: Reply, seconds: float) -> Reply:
    """``reply`` sent only after ``seconds`` of silence (the client may leave before)."""
    return dataclasses.replace(reply, headers_delay=seconds)


def hang_up(*, reset: bool = False) -> Reply:
    """No answer at all: the server reads the request, then closes (``reset``: with an RST)."""
    return Reply(head=False, steps=[Drop(reset=reset)])
