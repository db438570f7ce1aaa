"""Write ``docs/benchmarks.md`` and ``docs/benchmarks.png`` from ``bench/results/*.json``.

The page opens with a hand-written explanation (kept here, in ``INTRODUCTION``), then the
headline against the goals, then one table per section, all generated from the last results.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bench.common import COMMAND, ROOT, load

PAGE = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "benchmarks.png"

PROVIDER_NAMES = {
    "openai": "OpenAI",
    "gemini": "Gemini",
    "mistral": "Mistral",
    "anthropic": "Anthropic",
}
CLIENT_NAMES = {
    "sdk": "SDK alone (floor)",
    "janito": "**janito-core**",
    "janito-break": "**janito-core**",
    "any-llm": "any-llm",
    "litellm": "LiteLLM",
    "llm": "llm",
    "janito-async": "janito-core via `astream_generate` (diagnostic)",
    "janito-driver": "janito driver only, no harness (diagnostic)",
    "raw-wire": "raw wire: httpx2 + `json.loads`, no SDK (diagnostic)",
}

GOAL_RATIO = 1.05
GOAL_CANCEL_CONSUMER_MS = 20.0
GOAL_CANCEL_SERVER_MS = 100.0
GOAL_LIST_MS = 150.0
# Issue 11: at 500 at once, wall time over raw httpx2's in the same run.
GOAL_ASYNC_X_RAW = 1.15
GOAL_SYNC_X_RAW = 1.30
GOAL_LOAD = 500

INTRODUCTION = """\
# Benchmarks

What a user of janito-core pays for it, measured against the loopback wire server
(`janito_core.testing.server.WireServer`) with the real provider SDKs, next to the same work
done by the SDK alone and by three other libraries that wrap providers:
[any-llm](https://github.com/mozilla-ai/any-llm) (`any-llm-sdk`),
[LiteLLM](https://github.com/BerriAI/litellm) and [llm](https://llm.datasette.io/).

## Running them

```sh
uv run --group bench python -m bench            # everything, ~8 min on 2 cores; rewrites this page
uv run --group bench python -m bench --quick    # small sizes, to try it out (figures not for here)
uv run --group bench python -m bench --only cancel,startup   # some sections; `--only report`
```

The `bench` dependency group (matplotlib and the peers) is not a default group, so `uv sync`
and CI never install it; the benchmarks are not tests and CI does not run them. Results go to
`bench/results/*.json` (not committed); `bench/report.py` turns them into this page and the plot.
Most of a full run's time goes to the slowest clients (LiteLLM and the Mistral SDK spend 1-2 ms
per streamed part; the peers take seconds to start) and to the concurrency load, which is more
than two cores can carry; the table below says how long each section took.

## How they are measured

- **The server runs in a process of its own** (`bench/server.py`), so its threads never compete
  for the GIL of the process being measured, as with a real provider. Times are
  `time.monotonic()`, one clock for both processes, so "the server saw the client leave at t"
  compares directly with the moment of the cancel.
- **Every client gets the same bytes.** Each provider's stream is written once in its wire
  format (`bench/wire.py`, the shapes of the drivers' own wire adapters) and served to the bare
  SDK, to janito-core and to each peer; every run checks that the text came through exactly.
- **Ratios and medians, never one time.** Each figure is the median of several runs taken in one
  process run, the clients taking turns round after round so that a busy moment on the machine
  falls on all of them alike; ratios are medians over the floor's median.
- **The floor** is the provider's SDK in a plain loop (`for chunk in client...create(stream=True)`),
  with the SDK's retries off.
- **Peers are pointed at the server only through their documented base-URL settings**
  (`api_base` for any-llm and LiteLLM, `api_base` in llm's `extra-openai-models.yaml`); nothing
  else is patched. A peer that has no such setting for a provider is "n/a", with the reason.
  LiteLLM runs with `LITELLM_LOCAL_MODEL_COST_MAP=True`, since it otherwise fetches its model
  price list from the internet at import.
- **Only janito-core's own drivers.** The development environment also installs test plugins
  and `janito-otel`; every measurement runs with
  `JANITO_DISABLE_PLUGINS=janito-otel,janito-driver-broken,janito-driver-testthirdparty,janito-driver-example`,
  so it is janito-core with its three first-party drivers (and `echo`).
- **Start-up** runs each command in a fresh interpreter. The development environment sets
  `PYTHONDONTWRITEBYTECODE=1`; the start-up subprocesses run without it, after one warm-up run
  each, so they load `.pyc` files as an installed package would.

Each section's module says in its docstring exactly what it does: `bench/overhead.py`,
`bench/cancel.py`, `bench/startup.py`, `bench/concurrency.py`, `bench/peers.py` (how each
library is called and stopped).
"""


# -- formatting --------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _delta(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:+,.1f}"


def _ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    marks = align or ("l" + "r" * (len(header) - 1))
    rule = ["---:" if a == "r" else ":---" for a in marks]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _verdict(met: bool, text: str) -> str:
    return ("✅ met" if met else "❌ missed") + (f": {text}" if text else "")


# -- sections ----------------------------------------------------------------------------------


def _machine(info: dict[str, Any] | None) -> str:
    if not info:
        return "_No run recorded yet._\n"
    versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
    sections = info.get("sections", {})
    timing = ", ".join(f"{k} {v.get('seconds', '?')} s" for k, v in sections.items())
    rows = [
        ["date", str(info.get("date"))],
        ["command", f"`{COMMAND}`" + (" `--quick`" if info.get("quick") else "")],
        ["machine", f"{info.get('cpu')}, {info.get('cores')} cores, {info.get('memory')}"],
        ["system", str(info.get("platform"))],
        ["Python", f"{info.get('implementation')} {info.get('python')}"],
        ["load average at the start", ", ".join(map(str, info.get("load_average_at_start", [])))],
        ["versions", versions],
        ["time taken", f"{info.get('total_seconds', '?')} s ({timing})"],
    ]
    text = _table(["", ""], rows, "ll")
    if info.get("quick"):
        text = (
            "> **These figures come from a `--quick` run (small sizes): they show the suite "
            "works, not what janito-core costs.**\n\n" + text
        )
    return text + "\n"


def _overhead_rows(data: dict[str, Any], provider: str) -> list[list[str]]:
    rows = []
    for name in data["clients"]:
        row = data["providers"][provider].get(name)
        if row is None:
            continue
        label = CLIENT_NAMES.get(name, name)
        if row["status"] != "ok":
            rows.append([label, "n/a", "", "", "", "", row.get("reason", "")])
            continue
        note = ""
        if name == "janito":
            note = _verdict(row["ratio"] <= GOAL_RATIO, f"goal ≤ {GOAL_RATIO}")
        rows.append(
            [
                label,
                _num(row["median_s"] * 1e3, 0),
                _num(row["per_part_us"], 1),
                _ratio(row["ratio"]),
                _ratio(row.get("cpu_ratio")),
                str(len(row["runs"])),
                note,
            ]
        )
    return rows


def _overhead(data: dict[str, Any] | None) -> str:
    if not data:
        return "_Not run yet._\n"
    out = [
        f"One answer of {data['parts']:,} text parts with no delay between them, read to the "
        "end. Median wall time of the runs; the ratio is over the SDK's median for the same "
        "provider. The CPU-time ratio is the same with the process's CPU time (all threads), "
        "which other work on the machine disturbs less.\n"
    ]
    for provider in data["providers"]:
        out.append(f"### {PROVIDER_NAMES.get(provider, provider)}\n")
        out.append(
            _table(
                [
                    "client",
                    "median ms",
                    "µs per part",
                    "ratio to floor",
                    "CPU-time ratio",
                    "runs",
                    "",
                ],
                _overhead_rows(data, provider),
                "lrrrrrl",
            )
        )
        out.append("")
    out.append(_where_time_goes(data))
    return "\n".join(out) + "\n"


def _where_time_goes(data: dict[str, Any]) -> str:
    rows = []
    for provider, found in data["providers"].items():
        sdk, drv, jan, raw = (
            found.get(k, {}) for k in ("sdk", "janito-driver", "janito", "raw-wire")
        )
        if not all(r.get("status") == "ok" for r in (sdk, drv, jan)):
            continue
        best = {
            k: r.get("best_per_part_us", r.get("per_part_us"))
            for k, r in (("sdk", sdk), ("drv", drv), ("jan", jan), ("raw", raw))
        }
        rows.append(
            [
                PROVIDER_NAMES.get(provider, provider),
                _num(best["raw"], 1) if raw.get("status") == "ok" else "-",
                _num(best["sdk"], 1),
                _delta(best["drv"] - best["sdk"]),
                _delta(best["jan"] - best["drv"]),
                _delta(best["jan"] - best["sdk"]),
            ]
        )
    if not rows:
        return ""
    harness = data.get("harness_alone")
    chunk = data.get("openai_chunk")
    alone = ""
    if chunk:
        alone += (
            "\nOne OpenAI chunk, step by step in a tight loop: `json.loads` "
            f"{_num(chunk['json_loads_us'], 1)} µs; the SDK building its `ChatCompletionChunk` "
            f"{_num(chunk['sdk_construct_us'], 1)} µs; turning it back into a dict (`to_dict()`) "
            f"{_num(chunk['driver_to_dict_us'], 1)} µs and `ChatReader.feed` "
            f"{_num(chunk['driver_reader_us'], 1)} µs.\n"
        )
    if harness:
        alone += (
            "\nThe harness alone, with a driver that yields ready-made parts (no network, no "
            f"SDK): {_num(harness['direct_us'], 2)} µs per part iterating the driver directly, "
            f"{_num(harness['stream_generate_us'], 2)} µs through `stream_generate`, "
            f"{_num(harness['astream_generate_us'], 2)} µs through `astream_generate`. What "
            "`stream_generate` adds beyond `astream_generate` is the hand-off from the shared "
            "loop's thread to the consumer's thread.\n"
        )
    return (
        "### Where the time per part goes\n\n"
        "From the best (least disturbed) run of each row above: the wire alone, the SDK "
        "building its objects on top, the driver turning them into neutral parts, and the "
        "harness committing events and handing them to the consumer. A difference within "
        "the runs' spread shows as a small or negative number.\n\n"
        + _table(
            [
                "provider",
                "raw wire µs",
                "SDK alone µs",
                "+ driver µs",
                "+ harness µs",
                "janito-core adds µs",
            ],
            rows,
        )
        + "\n"
        + alone
    )


def _cancel(data: dict[str, Any] | None) -> str:
    if not data:
        return "_Not run yet._\n"
    stream, stall = data["stream"], data["stall"]
    window = data["window_s"]
    out = [
        f"*Mid-stream*: {stream['parts']} parts {stream['delay_s'] * 1e3:g} ms apart, stopped at a "
        f"random moment {window[0] * 1e3:g}-{window[1] * 1e3:g} ms after the first part. "
        f"*Stalled*: {stall['after_parts']} parts, then {stall['seconds']:g} s of silence (then "
        f"the rest), stopped at a random moment {window[0] * 1e3:g}-{window[1] * 1e3:g} ms into "
        "the silence. (a) is the time from the stop to the end of the consumer's loop, (b) to the "
        "server seeing the connection close; p50/p99 over the trials. janito-core: "
        f"{data['trials']} trials per row with `cancel_event`, "
        f"{data.get('break_trials', data['trials'])} with `break`; the SDKs and peers: "
        f"{data['peer_trials']} mid-stream, "
        f"{data['peer_stall_trials']} stalled (each of those waits out the silence).\n",
    ]
    header = ["client", "how it is stopped", "trials", "(a) p50", "(a) p99", "(b) p50", "(b) p99"]
    header.append("what the server saw")
    for scenario, title in (("stream", "Mid-stream"), ("stall", "While the server stalls")):
        out.append(f"### {title}\n")
        table = []
        for row in data["rows"]:
            if row["scenario"] != scenario:
                continue
            provider = PROVIDER_NAMES.get(row["provider"], row["provider"])
            label = f"{CLIENT_NAMES.get(row['client'], row['client'])} ({provider})"
            if row.get("status") == "n/a":
                table.append([label, "n/a", "", "", "", "", "", row.get("reason", "")])
                continue
            c, s = row["consumer_ms"], row["server_ms"]
            seen = ", ".join(f"{k} x{v}" for k, v in row["outcomes"].items())
            if row.get("notes"):
                seen += " (" + "; ".join(row["notes"]) + ")"
            if row.get("threads_left"):
                seen += f"; {row['threads_left']} thread(s) left"
            table.append(
                [
                    label,
                    row["how"],
                    str(row["trials"]),
                    _num(c["p50"]),
                    _num(c["p99"]),
                    _num(s["p50"]),
                    _num(s["p99"]),
                    seen,
                ]
            )
        out.append(_table(header, table, "llrrrrrl"))
        out.append("")
    out.append("All times in ms.\n")
    return "\n".join(out) + "\n"


def _startup(data: dict[str, Any] | None) -> str:
    if not data:
        return "_Not run yet._\n"
    rows = []
    for label, row in data["rows"].items():
        if row["status"] != "ok":
            rows.append([label, f"`{row['command']}`", "n/a", "", "", row.get("reason", "")])
            continue
        note = ""
        if row.get("goal_ms") is not None:
            note = _verdict(row["delta_ms"] <= row["goal_ms"], f"goal ≤ {row['goal_ms']:g} ms")
        rows.append(
            [
                label,
                f"`{row['command']}`",
                _num(row["median_ms"], 0),
                _num(row["delta_ms"], 0),
                str(len(row["runs_s"])),
                note,
            ]
        )
    listing = data["rows"].get("janito-drivers list", {}).get("output")
    shown = ""
    if listing:
        shown = "\n`janito-drivers list` printed:\n\n```\n" + "\n".join(listing) + "\n```\n"
    return (
        "Wall time of the whole process, median of the runs; the difference is to the median of "
        f"`python -c pass`. janito-core and the interpreter: {data['runs']} runs each; the peers: "
        f"{data['peer_runs']}.\n\n"
        + _table(
            ["what", "command", "median ms", "over `python -c pass`", "runs", ""], rows, "llrrrl"
        )
        + "\n"
        + shown
    )


def _concurrency_current(data: dict[str, Any] | None) -> bool:
    """Results in this bench's format (older runs had one Python server and two loads)."""
    return data is not None and "results" in data


def _concurrency(data: dict[str, Any] | None) -> str:
    if not data:
        return "_Not run yet._\n"
    if not _concurrency_current(data):
        return "_Results from an older version of the bench: run `--only concurrency` again._\n"
    loads = ", ".join(f"{level['generations']:,}" for level in data["results"])
    rounds = ", ".join(str(level.get("rounds", "?")) for level in data["results"])
    out = [
        f"Generations of {data['parts']} parts, {data['interval_s'] * 1e3:g} ms apart, {loads} "
        f"at once, from `bench/fastsse.c` (a compiled server, in a process of its own), on "
        f"{data['cores']} cores. Each client runs in a process of its own; in each round the "
        f"clients and the C load client take turns; figures are medians of {rounds} round(s) "
        "per load. The ideal is the schedule plus what the C load client needs beyond it at the "
        "same load (connects and the first part's wait).\n",
        "**The server's capacity**, under its C load client with no Python running:\n",
    ]
    proof_rows = [
        [
            f"{p['generations']:,} streams",
            f"{p['offered_parts_per_s']:,.0f}",
            f"{p['parts_per_s']:,.0f}",
            _ratio(p["wall_over_schedule"]),
            _num(p["added_delay_ms"]["p99"]),
            f"{p['server_cores']:.2f}",
            f"{p['client_cores']:.2f}",
            f"{p['others_cores']:.2f}",
        ]
        for p in data["capacity"]
    ]
    out.append(
        _table(
            [
                "load",
                "parts/s offered",
                "parts/s received",
                "wall / schedule",
                "p99 delay ms",
                "server cores",
                "load client cores",
                "other cores",
            ],
            proof_rows,
        )
        + "\n"
    )
    header = [
        "at once",
        "client",
        "wall s",
        "wall / ideal",
        "wall / raw httpx2",
        "client CPU µs per part",
        "CPU / raw httpx2",
        "cores: client / server / others",
        "p99 delay ms",
        "switches per part",
        "",
    ]
    rows = []
    for level in data["results"]:
        for row in level["rows"].values():
            label = f"{level['generations']:,}"
            if "wall_s" not in row:
                rows.append([label, row["label"], "n/a", *[""] * 7, "; ".join(row["failed_runs"])])
                continue
            notes = []
            if row["incomplete"]:
                notes.append(f"{row['incomplete']} incomplete")
            if row["failed_runs"]:
                notes.append(f"{len(row['failed_runs'])} run(s) failed: {row['failed_runs'][0]}")
            if row.get("threads_left", 0) > 0 or row.get("fds_left", 0) > 0:
                notes.append(f"left {row['threads_left']} threads, {row['fds_left']} fds")
            rows.append(
                [
                    label,
                    row["label"],
                    f"{row['wall_s']:.2f}",
                    _ratio(row["wall_over_ideal"]),
                    _ratio(row.get("wall_x_raw")),
                    _num(row["cpu_per_part_us"], 0),
                    _ratio(row.get("cpu_x_raw")),
                    f"{row['client_cores']:.2f} / {row['server_cores']:.2f} / "
                    f"{row['others_cores']:.2f}",
                    _num(row["delay_p99_ms"], 0),
                    _num(row.get("switches_per_part"), 2),
                    "; ".join(notes),
                ]
            )
    out.append(_table(header, rows, "llrrrrrrrrl"))
    out.append(
        "\n*Cores*: CPU seconds over wall seconds of the client process, the server process and "
        "everything else on the machine (other work disturbs the figures when it is high). "
        "*Delay per part*: how late each part reached the consumer against its generation's "
        "best-kept schedule. *Switches*: the client process's context switches "
        "(`getrusage`). Threads and descriptors are compared before each run and after its "
        "client was closed; a row notes any left.\n"
    )
    return "\n".join(out) + "\n"


def _concurrency_row(data: dict[str, Any], count: int, row: str) -> dict[str, Any] | None:
    for level in data["results"]:
        if level["generations"] == count:
            found: dict[str, Any] | None = level["rows"].get(row)
            return found if found and "wall_s" in found else None
    return None


# -- the headline --------------------------------------------------------------------------------


def _headline(
    overhead: dict[str, Any] | None,
    cancel: dict[str, Any] | None,
    startup: dict[str, Any] | None,
    concurrency: dict[str, Any] | None,
) -> str:
    rows: list[list[str]] = []
    if overhead:
        for provider, found in overhead["providers"].items():
            jan = found.get("janito", {})
            if jan.get("status") != "ok":
                continue
            peers = ", ".join(
                f"{CLIENT_NAMES[p]} {_ratio(found[p]['ratio'])}"
                for p in ("any-llm", "litellm", "llm")
                if found.get(p, {}).get("status") == "ok"
            )
            ratio = jan["ratio"]
            by = f"by {(ratio - GOAL_RATIO) * 100:.0f} points" if ratio > GOAL_RATIO else ""
            rows.append(
                [
                    f"1-2. streaming overhead, {PROVIDER_NAMES[provider]}",
                    f"≤ {GOAL_RATIO}x",
                    f"{_ratio(ratio)} (CPU time {_ratio(jan.get('cpu_ratio'))})",
                    _verdict(ratio <= GOAL_RATIO, by),
                    peers,
                ]
            )
    if cancel:
        for row in cancel["rows"]:
            if row["client"] != "janito" or row.get("status") == "n/a":
                continue
            c, s = row["consumer_ms"]["p99"], row["server_ms"]["p99"]
            met = c < GOAL_CANCEL_CONSUMER_MS and s < GOAL_CANCEL_SERVER_MS
            others: list[str] = []
            for other in cancel["rows"]:
                same = other["provider"] == row["provider"] and other["scenario"] == row["scenario"]
                if same and other["client"] in ("sdk", "any-llm", "litellm", "llm"):
                    if other.get("status") == "n/a":
                        continue
                    others.append(
                        f"{CLIENT_NAMES[other['client']]} {_num(other['consumer_ms']['p99'], 0)}"
                        f"/{_num(other['server_ms']['p99'], 0)}"
                    )
            scenario = "mid-stream" if row["scenario"] == "stream" else "server stalled"
            rows.append(
                [
                    f"3. cancel, {PROVIDER_NAMES[row['provider']]}, {scenario}",
                    f"p99 (a) < {GOAL_CANCEL_CONSUMER_MS:g} ms, (b) < {GOAL_CANCEL_SERVER_MS:g} ms",
                    f"{_num(c)} / {_num(s)} ms",
                    _verdict(met, ""),
                    "; ".join(others) + (" ms" if others else ""),
                ]
            )
    if startup:
        row = startup["rows"].get("janito-drivers list", {})
        if row.get("status") == "ok":
            delta = row["delta_ms"]
            starts: list[str] = []
            for label, other in startup["rows"].items():
                if other.get("who") in ("any-llm", "litellm", "llm") and other["status"] == "ok":
                    starts.append(f"{label} +{_num(other['delta_ms'], 0)}")
            rows.append(
                [
                    "4. `janito-drivers list` over `python -c pass`",
                    f"≤ {GOAL_LIST_MS:g} ms",
                    f"+{_num(delta, 0)} ms",
                    _verdict(delta <= GOAL_LIST_MS, ""),
                    "; ".join(starts) + (" ms" if starts else ""),
                ]
            )
    if concurrency and _concurrency_current(concurrency):
        raw = _concurrency_row(concurrency, GOAL_LOAD, "raw-httpx2")
        sdk = _concurrency_row(concurrency, GOAL_LOAD, "sdk-asyncio")
        for name, goal, what in (
            ("janito-asyncio", GOAL_ASYNC_X_RAW, "`astream_generate`"),
            ("janito-threads", GOAL_SYNC_X_RAW, "`stream_generate`"),
        ):
            row = _concurrency_row(concurrency, GOAL_LOAD, name)
            title = f"5. {GOAL_LOAD} at once, {what}, wall over raw httpx2"
            if row is None or raw is None:
                rows.append([title, f"≤ {goal:.2f}x", "n/a", "", ""])
                continue
            ratio = row["wall_s"] / raw["wall_s"]
            left = row.get("threads_left", 0) + row.get("fds_left", 0)
            others = [f"raw httpx2 {_ratio(raw['wall_over_ideal'])} ideal"]
            if sdk:
                others.append(f"AsyncOpenAI {_ratio(sdk['wall_s'] / raw['wall_s'])} raw")
            rows.append(
                [
                    title,
                    f"≤ {goal:.2f}x, nothing left",
                    f"{_ratio(ratio)} ({_ratio(row['wall_over_ideal'])} ideal, "
                    f"{_num(row['cpu_per_part_us'], 0)} µs CPU/part)",
                    _verdict(
                        ratio <= goal and left <= 0,
                        f"by {(ratio - goal) * 100:.0f} points" if ratio > goal else "",
                    ),
                    "; ".join(others),
                ]
            )
    if not rows:
        return "_No results yet._\n"
    return _table(["goal", "target", "measured", "", "the others"], rows, "lllll") + "\n"


# -- findings ----------------------------------------------------------------------------------


def _ok(row: dict[str, Any] | None) -> bool:
    return bool(row) and row.get("status", "ok") == "ok"  # type: ignore[union-attr]


def _best(row: dict[str, Any]) -> float:
    value: float = row.get("best_per_part_us", row["per_part_us"])
    return value


def _part(value: float) -> str:
    return f"{_delta(value)} µs" if value > 0 else "about nothing (within the runs' spread)"


def _findings_overhead(overhead: dict[str, Any]) -> list[str]:
    out: list[str] = []
    harness = overhead.get("harness_alone", {})
    chunk = overhead.get("openai_chunk", {})
    for provider, found in overhead["providers"].items():
        sdk, drv, jan = found.get("sdk"), found.get("janito-driver"), found.get("janito")
        if not (_ok(sdk) and _ok(jan)):
            continue
        assert sdk is not None and jan is not None
        ratio = jan["ratio"]
        name = PROVIDER_NAMES[provider]
        measured = f"{_ratio(ratio)} (CPU time {_ratio(jan.get('cpu_ratio'))})"
        if ratio <= GOAL_RATIO:
            line = f"- **{name}: {measured}, within the goal.**"
        else:
            line = (
                f"- **{name}: {measured}, over the goal by {(ratio - GOAL_RATIO) * 100:.0f} "
                "points.**"
            )
        line += f" Best runs: the SDK alone {_num(_best(sdk))} µs per part"
        if _ok(drv):
            assert drv is not None
            line += (
                f", the driver {_part(_best(drv) - _best(sdk))} on top, the harness "
                f"{_part(_best(jan) - _best(drv))}"
            )
        else:
            line += f", janito-core {_part(_best(jan) - _best(sdk))} on top"
        line += "."
        if provider == "openai" and chunk:
            line += (
                f" Of one chunk's cost the SDK's `ChatCompletionChunk` is "
                f"{_num(chunk['sdk_construct_us'])} µs (its JSON {_num(chunk['json_loads_us'])} "
                f"µs); `to_dict()` {_num(chunk['driver_to_dict_us'])} and the driver's reader "
                f"{_num(chunk['driver_reader_us'])} µs."
            )
        out.append(line)
    if harness:
        out.append(
            f"- The harness's own code costs {_num(harness['stream_generate_us'])} µs per part "
            "through `stream_generate` (a driver that yields ready-made parts): building the "
            "event, committing it with the state it stands for, and handing it from the shared "
            "loop's thread to the consumer's. Through `astream_generate` there is no thread "
            "hand-off at all: the generation is a task on the consumer's own loop."
        )
    return out


def _findings(
    overhead: dict[str, Any] | None,
    cancel: dict[str, Any] | None,
    startup: dict[str, Any] | None,
    concurrency: dict[str, Any] | None,
) -> str:
    out: list[str] = []
    if overhead:
        out.append("**Streaming overhead.**\n")
        out += _findings_overhead(overhead)
        out.append(
            "\nWhy the drivers differ. Every SDK turns each chunk into pydantic objects "
            "(the Mistral SDK even builds a model *class* per event). The OpenAI and Mistral "
            "drivers therefore keep the SDK for the request, authentication and HTTP errors but "
            "read the response's server-sent events themselves (`janito_core.sse`) and "
            "`json.loads` them into the dicts their readers take, which is why they run below "
            "the SDK loop. google-genai has no raw-stream option; the Gemini driver gives it an "
            "`httpx2` client whose transport keeps the real response body for the driver while "
            "the SDK still builds and sends the request and maps HTTP errors (with a fallback to "
            "the SDK's objects, and a test that fails if a new google-genai breaks it). Every "
            "driver is on the asynchronous seam: a generation is a task, and the harness commits "
            "each event in one step on the loop's thread.\n"
        )
        peers = []
        for provider, found in overhead["providers"].items():
            parts = [
                f"{CLIENT_NAMES[p]} {_ratio(found[p]['ratio'])}"
                for p in ("janito", "any-llm", "litellm", "llm")
                if _ok(found.get(p))
            ]
            peers.append(f"{PROVIDER_NAMES[provider]}: " + ", ".join(parts))
        out.append(
            "**The peers on the same stream** (ratio to the SDK alone): "
            + "; ".join(peers).replace("**", "")
            + ". any-llm's synchronous API runs the provider's async client on an event loop in "
            "a background thread; LiteLLM builds its own chunk objects from each provider's; "
            "llm re-parses through the OpenAI SDK with a fresh client per prompt.\n"
        )
    if cancel:
        janito = [r for r in cancel["rows"] if r["client"] == "janito" and _ok(r)]
        worst_a = max((r["consumer_ms"]["p99"] for r in janito), default=math.nan)
        worst_b = max((r["server_ms"]["p99"] for r in janito), default=math.nan)
        stalled = [
            r
            for r in cancel["rows"]
            if r["scenario"] == "stall" and r["client"] != "janito" and _ok(r)
        ]
        wait = median_of([r["consumer_ms"]["p50"] for r in stalled])
        not_closed = sorted(
            {
                CLIENT_NAMES[r["client"]]
                for r in cancel["rows"]
                if _ok(r) and any(k != "disconnected" for k in r.get("outcomes", {}))
            }
        )
        out.append(
            "**Cancellation.** janito-core's worst p99 over every driver and both scripts is "
            f"{_num(worst_a)} ms to the end of the loop and {_num(worst_b)} ms to the server "
            f"seeing the connection go (goals {GOAL_CANCEL_CONSUMER_MS:g} and "
            f"{GOAL_CANCEL_SERVER_MS:g} ms). With a `cancel_event` the consumer looks at it every "
            "5 ms while it waits, which is most of (a); `stream.cancel()` from another thread "
            "skips that wait. Mid-stream, the SDKs, any-llm and LiteLLM also stop within a few "
            "ms when the loop breaks and the stream is closed. While the server stalls, none of "
            "them can: the consumer is blocked inside the SDK's read, so the loop ends only when "
            f"the server sends again (median {_num(wait, 0)} ms here, the end of the 0.5 s "
            "silence; against a silent provider, the read timeout: 600 s by default for the "
            "OpenAI SDK, none for google-genai). "
            + (
                f"Not closing the connection at all: {', '.join(not_closed)}: breaking out of "
                "llm's loop ends the loop, but nothing closes the OpenAI stream underneath, so "
                "the server goes on sending the whole answer."
                if not_closed
                else ""
            )
            + "\n"
        )
    if startup:
        rows = startup["rows"]
        listing = rows.get("janito-drivers list", {})
        run_row = rows.get("janito-drivers run (echo driver)", {})
        if _ok(listing):
            out.append(
                f"**Start-up.** `janito-drivers list` takes {_num(listing['delta_ms'], 0)} ms "
                f"more than the bare interpreter (goal {GOAL_LIST_MS:g} ms): it imports no "
                "provider SDK. "
                + (
                    f"`janito-drivers run` with `echo` adds {_num(run_row['delta_ms'], 0)} ms, "
                    "mostly building the attrs classes of the events and importing asyncio and the "
                    "harness. "
                    if _ok(run_row)
                    else ""
                )
                + "The peers import their providers' machinery up front: see the table.\n"
            )
    if concurrency:
        out.append(_findings_concurrency(concurrency))
    return "\n".join(out) + "\n"


def median_of(values: list[float]) -> float:
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return math.nan
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _findings_concurrency(data: dict[str, Any]) -> str:
    if not _concurrency_current(data):
        return ""
    proofs = data["capacity"]
    best = max(proofs, key=lambda p: p["parts_per_s"]) if proofs else None
    text = "**Concurrency.**"
    if best:
        text += (
            f" The compiled server kept {best['parts_per_s']:,.0f} parts per second to its C "
            f"load client ({best['generations']:,} streams, "
            f"{_ratio(best['wall_over_schedule'])} the schedule) on "
            f"{best['server_cores']:.2f} of a core: not the bottleneck."
        )
    for count in (GOAL_LOAD, max(level["generations"] for level in data["results"])):
        found = {
            name: _concurrency_row(data, count, name)
            for name in ("janito-asyncio", "janito-threads", "raw-httpx2", "sdk-asyncio")
        }
        if not all(found.values()):
            continue
        a, t, r, k = (
            found[n] for n in ("janito-asyncio", "janito-threads", "raw-httpx2", "sdk-asyncio")
        )
        assert a and t and r and k
        text += (
            f" At {count:,} at once, against the ideal: raw httpx2 {_ratio(r['wall_over_ideal'])} "
            f"({_num(r['cpu_per_part_us'], 0)} µs CPU per part), `astream_generate` "
            f"{_ratio(a['wall_over_ideal'])} ({_num(a['cpu_per_part_us'], 0)} µs), "
            f"`stream_generate` {_ratio(t['wall_over_ideal'])} ({_num(t['cpu_per_part_us'], 0)} "
            f"µs), `AsyncOpenAI` alone {_ratio(k['wall_over_ideal'])} "
            f"({_num(k['cpu_per_part_us'], 0)} µs)."
        )
        if count == max(level["generations"] for level in data["results"]):
            break
    return text + "\n"


# -- the plot ------------------------------------------------------------------------------------


COLOURS = {
    "janito": "#2b6cb0",
    "janito-break": "#63b3ed",
    "sdk": "#718096",
    "any-llm": "#dd6b20",
    "litellm": "#38a169",
    "llm": "#805ad5",
}


def _plot_overhead(axis: Any, overhead: dict[str, Any]) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    providers = list(overhead["providers"])
    clients = ["janito", "any-llm", "litellm", "llm"]
    width = 0.2
    for i, client in enumerate(clients):
        values = []
        for provider in providers:
            row = overhead["providers"][provider].get(client, {})
            values.append(row.get("ratio") if row.get("status") == "ok" else float("nan"))
        xs = [p + (i - 1.5) * width for p in range(len(providers))]
        label = "janito-core" if client == "janito" else client
        bars = axis.bar(xs, values, width, label=label, color=COLOURS[client])
        for bar, value in zip(bars, values, strict=True):
            if not math.isnan(value):
                axis.annotate(
                    f"{value:.2f}",
                    (bar.get_x() + bar.get_width() / 2, value),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    axis.axhline(1.0, color=COLOURS["sdk"], linewidth=1, label="SDK alone = 1")
    axis.axhline(GOAL_RATIO, color="#c53030", linestyle="--", linewidth=1, label="goal 1.05")
    axis.set_yscale("log")
    ticks = [0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20]
    axis.yaxis.set_major_locator(FixedLocator(ticks))
    axis.yaxis.set_minor_locator(NullLocator())
    axis.set_yticklabels([f"{t:g}" for t in ticks])
    axis.set_xticks(range(len(providers)), [PROVIDER_NAMES[p] for p in providers])
    axis.set_ylabel("median time / SDK alone (log scale)")
    axis.set_title(f"{overhead['parts']:,}-part stream, no delay", fontsize=10)
    axis.legend(fontsize=7, ncol=2, loc="upper right")


def _plot_cancel(axis: Any, cancel: dict[str, Any], scenario: str, title: str) -> None:
    labels: list[str] = []
    p50s: list[float] = []
    p99s: list[float] = []
    servers: list[float] = []
    kinds: list[str] = []
    for row in cancel["rows"]:
        if row.get("status") == "n/a" or row["scenario"] != scenario:
            continue
        name = {"janito": "janito-core", "janito-break": "janito-core, break"}.get(
            row["client"], row["client"]
        )
        labels.append(f"{name} / {PROVIDER_NAMES[row['provider']]}")
        p50s.append(max(row["consumer_ms"]["p50"], 0.1))
        p99s.append(max(row["consumer_ms"]["p99"], 0.1))
        servers.append(max(row["server_ms"]["p99"], 0.1))
        kinds.append(row["client"])
    ys = list(range(len(labels)))
    colours = [COLOURS.get(k, "#a0aec0") for k in kinds]
    axis.barh(ys, p99s, color=colours, alpha=0.4, label="(a) p99")
    axis.barh(ys, p50s, color=colours, label="(a) p50")
    axis.scatter(servers, ys, marker="|", s=90, color="black", label="(b) p99", zorder=3)
    axis.axvline(GOAL_CANCEL_CONSUMER_MS, color="#c53030", linestyle="--", linewidth=1)
    axis.axvline(GOAL_CANCEL_SERVER_MS, color="#c53030", linestyle=":", linewidth=1)
    axis.set_xscale("log")
    axis.set_xlim(0.3, 3000)
    axis.set_yticks(ys, labels, fontsize=7)
    axis.invert_yaxis()
    axis.set_xlabel("ms after the stop (log scale); goals 20 ms (a), 100 ms (b)", fontsize=8)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=7, loc="lower right")


def plot(
    overhead: dict[str, Any] | None, cancel: dict[str, Any] | None, path: Path = PLOT
) -> Path | None:
    """One PNG: overhead ratios per client and provider; cancel p50/p99 per client."""
    if not overhead and not cancel:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(17, 6), gridspec_kw={"width_ratios": [1.0, 1.1, 1.1]})
    if overhead:
        _plot_overhead(axes[0], overhead)
    if cancel:
        _plot_cancel(axes[1], cancel, "stream", "Cancel mid-stream: (a) consumer, (b) server")
        _plot_cancel(axes[2], cancel, "stall", "Cancel while the server stalls")
    fig.suptitle("janito-core against the SDKs alone and the peers (details in the tables)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# -- the page ------------------------------------------------------------------------------------


def render() -> str:
    info = load("machine")
    overhead, cancel = load("overhead"), load("cancel")
    startup, concurrency = load("startup"), load("concurrency")
    parts = [
        INTRODUCTION,
        "## The run these figures come from\n",
        _machine(info),
        "## Headline: the goals\n",
        "(a) is the consumer's loop ending, (b) the server seeing the connection close. "
        "\"The others\" gives the peers' (and the bare SDK's) figures for the same thing.\n",
        _headline(overhead, cancel, startup, concurrency),
        "![Overhead ratios and cancellation latency](benchmarks.png)\n",
        "## What the figures say\n",
        _findings(overhead, cancel, startup, concurrency),
        "## 1-2. Streaming overhead, and the peers on the same stream\n",
        _overhead(overhead),
        "## 3. Cancellation latency\n",
        _cancel(cancel),
        "## 4. Start-up\n",
        _startup(startup),
        "## 5. Concurrency\n",
        _concurrency(concurrency),
    ]
    return "\n".join(parts).rstrip() + "\n"


def write() -> Path:
    """Rewrite the page and the plot from the last results."""
    PAGE.write_text(render(), encoding="utf-8")
    plot(load("overhead"), load("cancel"))
    return PAGE


if __name__ == "__main__":
    print(write())
