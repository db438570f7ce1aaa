"""What observers cost per event: none, one idle observer, and the janito-otel plugin untraced.

Two measurements:

- ``deliver``: the harness's per-event commit alone (``Generation.commit`` into the consumer's
  hand-off, as the task does for every text part), with a prebuilt event, so the difference
  between rows is exactly what observers (or the async consumer's hand-off) add.
- ``stream``: whole generations through ``ScriptedDriver`` and the sync iterator, consumer
  included: what an application sees (noisier: it crosses from the loop's thread to yours).

Rounds go round-robin over the rows, so a busy moment on the machine falls on all of them alike;
each row reports its best round (the least disturbed) and its median. The janito-otel plugin
is measured twice: before anything imports OpenTelemetry (its hook then only checks the event's
type) and after, with no tracer provider configured (the API's no-op tracer).

Run: ``uv run python bench/observers.py [--events N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

from janito_core import events as ev
from janito_core import registry
from janito_core.generation import Generation
from janito_core.messages import Message
from janito_core.parts import FinishPart, TextPart
from janito_core.registry import Registry
from janito_core.testing import ScriptedDriver

Observer = Callable[[ev.Event], object]
# A row: how to deliver (observers, whether the async consumer's hand-off is the sink).
Row = tuple[Sequence[Observer], bool]


def idle(event: ev.Event) -> None:
    """An observer that does nothing: the cost of being called at all."""


def _deliver_ns(row: Row, events: int) -> float:
    observers, async_sink = row
    gen = Generation(
        driver=ScriptedDriver(),
        history=[Message.user("hi")],
        system_prompt=None,
        tools=(),
        options={},
        user_cancel=None,
        observers=observers,
    )
    if async_sink:
        from janito_core.streams import AsyncEventStream

        stream = AsyncEventStream(gen)  # its hand-off, consumer not parked: the common case
    else:
        from janito_core.streams import EventStream

        stream = EventStream(gen)  # type: ignore[assignment]
    event = ev.ContentPartFound(
        generation_id=gen.generation_id, driver="bench", request_id="r", content_part="x"
    )
    commit = gen.commit
    start = time.perf_counter_ns()
    for _ in range(events):
        commit(event)
    elapsed = time.perf_counter_ns() - start
    del stream
    return elapsed / events


def _stream_ns(row: Row, events: int) -> float:
    driver = ScriptedDriver([[*(TextPart("x") for _ in range(events)), FinishPart("stop")]])
    start = time.perf_counter_ns()
    count = sum(1 for _ in driver.stream_generate("hi", observers=row[0]))
    elapsed = time.perf_counter_ns() - start
    return elapsed / count


def _measure(
    title: str, rows: dict[str, Row], measure: Callable[[Row, int], float], events: int, rounds: int
) -> None:
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):
        for name, row in rows.items():
            samples[name].append(measure(row, events))
    print(f"{title} ({events} events per round, best of {rounds}):")
    for name, values in samples.items():
        best, median = min(values), statistics.median(values)
        print(f"  {name:46} {best:7.0f} ns/event   (median {median:6.0f})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per deliver round")
    parser.add_argument("--rounds", type=int, default=40, help="rounds per row")
    args = parser.parse_args(argv)
    stream_events = max(1, args.events // 10)
    # Only the observers named in each row: an installed plugin's hook must not sneak in.
    registry._default = Registry(entry_points=[])

    rows: dict[str, Row] = {
        "none": ([], False),
        "one idle observer": ([idle], False),
        "none, async consumer's hand-off": ([], True),
    }
    try:
        from janito_otel.plugin import observe_event
    except ImportError:
        observe_event = None
    if observe_event is not None:
        rows["janito-otel, OpenTelemetry not imported"] = ([observe_event], False)
    _measure("deliver: the harness's commit", rows, _deliver_ns, args.events, args.rounds)
    _measure("stream: whole generations", rows, _stream_ns, stream_events, args.rounds // 4 or 1)
    if observe_event is None:
        return

    import opentelemetry.trace  # noqa: F401  (what an application that traces has done)

    # The first generation after the import loads the recorder; keep that out of the timing.
    observe_event(ev.GenerationStarted(generation_id="warm-up", driver="bench", model="m"))
    rows = {
        "none": ([], False),
        "janito-otel, no tracer provider": ([observe_event], False),
    }
    _measure("deliver, OpenTelemetry imported", rows, _deliver_ns, args.events, args.rounds)
    _measure(
        "stream, OpenTelemetry imported", rows, _stream_ns, stream_events, args.rounds // 4 or 1
    )


if __name__ == "__main__":
    main()
