"""Sections 1 and 2: a long stream with no delay, through the bare SDK, janito-core and the peers.

For each provider the server sends the same ``N``-part answer (5,000 parts, no delay between
them) to every client. A run is the time from opening the request to the last text piece, and
the text must be exactly what was sent. After a warm-up on a short stream, the clients take
turns, round after round (the starting client rotates each round), so a busy moment on the
machine falls on all of them alike: the SDK and janito-core in every round (5), the peers and
the diagnostic rows in the first 3. A row's figure is the median of its runs, and its ratio is
that median over the median of the bare SDK's runs (the floor). Each run also notes the CPU time
of the whole process (every thread): on a machine that is not quiet, the CPU-time ratio is the
steadier of the two, and the page shows both.

Extra rows explain where janito-core's time goes:

- ``janito driver only``: the driver's ``astream_request`` (on a loop of its own) or
  ``stream_request`` (on the calling thread) iterated directly, without the harness: the
  driver's translation of the response into parts;
- ``raw wire``: ``httpx2`` + splitting SSE lines + ``json.loads``, no SDK at all: what the bytes
  cost before any SDK builds its objects;
- ``harness alone`` (not a row): the harness with a driver that yields ready-made parts, no
  network, per part: iterated directly, through ``stream_generate`` and ``astream_generate``;
- ``openai chunk`` (not a row): one OpenAI chunk's costs, step by step, in a tight loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from bench.common import Sizes, log, median
from bench.peers import (
    CLIENTS,
    PROMPT,
    Client,
    Opened,
    Unavailable,
    base_url,
    janito_driver,
    make_client,
)
from bench.server import ServerProcess
from bench.wire import API_KEY, MODELS, PROVIDERS, Provider, expected_text

DIAGNOSTICS = ("janito-driver", "raw-wire")
# Rows with the full number of runs; the peers and the diagnostic rows get fewer.
FLOOR_AND_US = ("sdk", "janito")


def _driver_only(provider: Provider, url: str) -> Client:
    from janito_core.driver import ProviderRequest, RequestContext
    from janito_core.messages import Message
    from janito_core.parts import TextPart

    driver = janito_driver(provider, url)

    def request() -> ProviderRequest:
        return ProviderRequest(
            request_id="bench-1", model=MODELS[provider], messages=(Message.user(PROMPT),)
        )

    def open_driver() -> Opened:
        parts = driver.stream_request(request(), RequestContext())

        def texts() -> Iterator[str]:
            for part in parts:
                if type(part) is TextPart:
                    yield part.text

        return Opened(texts(), parts.close)

    # One loop for every call: the driver's HTTP client belongs to the loop it was made on.
    loop = asyncio.new_event_loop()

    def open_async_driver() -> Opened:
        # The whole answer is read when the stream is opened; ``_consume`` times it all the same.
        async def read() -> list[str]:
            texts: list[str] = []
            parts = driver.astream_request(request(), RequestContext())
            try:
                async for part in parts:
                    if type(part) is TextPart:
                        texts.append(part.text)
            finally:
                await parts.aclose()
            return texts

        return Opened(iter(loop.run_until_complete(read())), lambda: None)

    opener = open_async_driver if _is_async(driver) else open_driver
    return Client("janito-driver", provider, opener)


def _is_async(driver: Any) -> bool:
    """Whether ``driver`` implements the asyncio seam (``astream_request``) itself."""
    from janito_core.driver import LLMDriver

    base = getattr(LLMDriver, "astream_request", None)
    mine = getattr(type(driver), "astream_request", None)
    return mine is not None and mine is not base


def harness_alone(parts: int, reps: int) -> dict[str, float]:
    """The harness with a driver that yields ready parts: its own cost per part, no network.

    ``direct`` iterates the driver on the calling thread; ``stream_generate`` and
    ``astream_generate`` run it through the harness. The ``async_*`` keys do the same with a
    driver on the asyncio seam (``astream_request``), where the harness has one.
    """
    from janito_core.driver import LLMDriver, ProviderRequest, RequestContext
    from janito_core.parts import FinishPart, Part, TextPart

    class Instant(LLMDriver):
        name = "instant"
        requires_api_key = False

        def stream_request(
            self, request: ProviderRequest, context: RequestContext
        ) -> Iterator[Part]:
            part = TextPart("w1 ")
            for _ in range(parts):
                yield part
            yield FinishPart("stop")

    class InstantAsync(LLMDriver):
        name = "instant-async"
        requires_api_key = False

        async def astream_request(
            self, request: ProviderRequest, context: RequestContext
        ) -> AsyncIterator[Part]:
            part = TextPart("w1 ")
            for _ in range(parts):
                yield part
            yield FinishPart("stop")

    driver = Instant(model="instant")
    async_driver: LLMDriver | None = None
    if hasattr(LLMDriver, "astream_request"):
        async_driver = InstantAsync(model="instant")

    def direct() -> None:
        for _ in driver.stream_request(None, None):  # type: ignore[arg-type]
            pass

    def through_sync(chosen: LLMDriver) -> Callable[[], None]:
        def go() -> None:
            for _ in chosen.stream_generate(PROMPT):
                pass

        return go

    def through_asyncio(chosen: LLMDriver) -> Callable[[], None]:
        async def go() -> None:
            async for _ in chosen.astream_generate(PROMPT):
                pass

        return lambda: asyncio.run(go())

    steps: dict[str, Callable[[], None]] = {
        "direct": direct,
        "stream_generate": through_sync(driver),
        "astream_generate": through_asyncio(driver),
    }
    if async_driver is not None:
        steps["async_stream_generate"] = through_sync(async_driver)
        steps["async_astream_generate"] = through_asyncio(async_driver)
    timings: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(reps):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - start)
    return {f"{name}_us": median(runs) / parts * 1e6 for name, runs in timings.items()}


def openai_chunk_costs(reps: int, count: int = 5000) -> dict[str, float]:
    """Per chunk, in µs: what the OpenAI SDK and janito-core's OpenAI driver do with one chunk.

    ``json_loads``: parsing its JSON; ``sdk_construct``: the SDK building its
    ``ChatCompletionChunk`` from that (what ``Stream`` does for every event);
    ``driver_to_dict``: the driver turning it back into a dict; ``driver_reader``: core's Chat
    Completions reader (``ChatCompletionsReader.chunk``, which the driver uses) making parts of
    the dict.
    """
    from openai.types.chat import ChatCompletionChunk

    from bench.wire import chat_chunk_json
    from janito_core.chat_completions import ChatCompletionsReader

    raw = chat_chunk_json("w1 ")
    data = json.loads(raw)
    chunk = ChatCompletionChunk.construct(**data)
    reader = ChatCompletionsReader(model=MODELS["openai"])
    steps: dict[str, Callable[[], object]] = {
        "json_loads": lambda: json.loads(raw),
        "sdk_construct": lambda: ChatCompletionChunk.construct(**data),
        "driver_to_dict": lambda: chunk.to_dict(warnings=False),
        "driver_reader": lambda: reader.chunk(data),
    }
    costs: dict[str, float] = {}
    for name, step in steps.items():
        runs = []
        for _ in range(reps):
            start = time.perf_counter()
            for _ in range(count):
                step()
            runs.append(time.perf_counter() - start)
        costs[f"{name}_us"] = median(runs) / count * 1e6
    return costs


def _raw_wire(provider: Provider, url: str) -> Client:
    import httpx2

    http = httpx2.Client(timeout=60.0)
    if provider == "gemini":
        target = f"{url}/v1beta/models/{MODELS['gemini']}:streamGenerateContent?alt=sse"
        body: dict[str, Any] = {"contents": [{"role": "user", "parts": [{"text": PROMPT}]}]}
    elif provider == "anthropic":
        target = f"{url}/v1/messages"
        body = {
            "model": MODELS[provider],
            "max_tokens": 4096,
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
        }
    else:
        path = "/chat/completions" if provider == "openai" else "/v1/chat/completions"
        target = base_url(provider, url) + path
        body = {
            "model": MODELS[provider],
            "messages": [{"role": "user", "content": PROMPT}],
            "stream": True,
        }

    def text_of(data: dict[str, Any]) -> str | None:
        if provider == "gemini":
            text: str | None = data["candidates"][0]["content"]["parts"][0].get("text")
            return text
        if provider == "anthropic":
            delta = data.get("delta") if data.get("type") == "content_block_delta" else None
            return delta.get("text") if delta else None
        choices = data.get("choices")
        return choices[0]["delta"].get("content") if choices else None

    def open_raw() -> Opened:
        context = http.stream("POST", target, json=body, headers={"authorization": API_KEY})
        response = context.__enter__()

        def texts() -> Iterator[str]:
            try:
                for line in response.iter_lines():
                    if not line.startswith("data: ") or line == "data: [DONE]":
                        continue
                    text = text_of(json.loads(line[6:]))
                    if text:
                        yield text
            finally:
                context.__exit__(None, None, None)

        def stop() -> None:
            context.__exit__(None, None, None)

        return Opened(texts(), stop)

    return Client("raw-wire", provider, open_raw)


def _consume(client: Client) -> tuple[float, float, str]:
    """Wall and CPU seconds (all of this process's threads) to read one whole answer."""
    cpu = time.process_time()
    start = time.perf_counter()
    opened = client.open()
    text = "".join(opened.texts)
    return time.perf_counter() - start, time.process_time() - cpu, text


WARM_UP_PARTS = 50


def _measure_provider(server: ServerProcess, provider: Provider, sizes: Sizes) -> dict[str, Any]:
    parts = sizes.overhead_parts
    builders: dict[str, Callable[[], Client | Unavailable]] = {
        name: functools.partial(make_client, name, provider, server.url) for name in CLIENTS
    }
    builders["janito-driver"] = lambda: _driver_only(provider, server.url)
    builders["raw-wire"] = lambda: _raw_wire(provider, server.url)
    rows: dict[str, dict[str, Any]] = {}
    clients: list[Client] = []
    # Warm-up on a short stream: imports, clients, connection pools, caches.
    server.set_default({"provider": provider, "parts": WARM_UP_PARTS, "delay": 0.0})
    for name, build in builders.items():
        made = build()
        if isinstance(made, Unavailable):
            rows[name] = {"status": "n/a", "reason": made.reason, "runs": []}
            continue
        try:
            _, _, text = _consume(made)
        except Exception as exc:
            rows[name] = {"status": "n/a", "reason": f"{type(exc).__name__}: {exc}", "runs": []}
            log(f"  {provider}/{name}: failed: {type(exc).__name__}: {exc}")
            continue
        if text != expected_text(WARM_UP_PARTS):
            rows[name] = {"status": "n/a", "reason": "the text differs from what was sent"}
            continue
        rows[name] = {"status": "ok", "runs": [], "cpu_runs": []}
        clients.append(made)
    server.set_default({"provider": provider, "parts": parts, "delay": 0.0})
    expected = expected_text(parts)
    for round_number in range(sizes.overhead_reps):
        turn = clients[round_number % len(clients) :] + clients[: round_number % len(clients)]
        for client in turn:
            row = rows[client.name]
            if row["status"] != "ok":
                continue
            if client.name not in FLOOR_AND_US and round_number >= sizes.overhead_peer_reps:
                continue
            seconds, cpu, text = _consume(client)
            if text != expected:
                row.update(status="n/a", reason="the text differs from what was sent")
                continue
            row["runs"].append(seconds)
            row["cpu_runs"].append(cpu)
        log(f"  {provider}: round {round_number + 1}/{sizes.overhead_reps} done")
    sdk_ok = rows["sdk"]["status"] == "ok"
    floor = median(rows["sdk"]["runs"]) if sdk_ok else None
    cpu_floor = median(rows["sdk"]["cpu_runs"]) if sdk_ok else None
    for row in rows.values():
        if row["status"] != "ok":
            continue
        row["median_s"] = median(row["runs"])
        row["per_part_us"] = row["median_s"] / parts * 1e6
        row["best_per_part_us"] = min(row["runs"]) / parts * 1e6
        row["ratio"] = row["median_s"] / floor if floor else None
        row["min_ratio"] = min(row["runs"]) / min(rows["sdk"]["runs"]) if floor else None
        row["cpu_median_s"] = median(row["cpu_runs"])
        row["cpu_ratio"] = row["cpu_median_s"] / cpu_floor if cpu_floor else None
    return rows


def run(sizes: Sizes, server: ServerProcess) -> dict[str, Any]:
    """Measure every client on every provider; the results of sections 1 and 2."""
    providers: dict[str, Any] = {}
    for provider in PROVIDERS:
        log(f"overhead: {provider}, {sizes.overhead_parts} parts")
        providers[provider] = _measure_provider(server, provider, sizes)
    log("overhead: the harness alone, and one OpenAI chunk's costs")
    harness = harness_alone(20_000 if not sizes.quick else 2_000, sizes.overhead_reps)
    chunk_costs = openai_chunk_costs(sizes.overhead_reps)
    return {
        "harness_alone": harness,
        "openai_chunk": chunk_costs,
        "parts": sizes.overhead_parts,
        "reps": sizes.overhead_reps,
        "peer_reps": sizes.overhead_peer_reps,
        "clients": [*CLIENTS, *DIAGNOSTICS],
        "providers": providers,
    }
