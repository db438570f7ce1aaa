"""``uv run --group bench python -m bench``: run the benchmarks and write docs/benchmarks.md.

Sections (``--only`` takes any of them, comma-separated or repeated):

- ``overhead``: a 5,000-part stream through the bare SDKs, janito-core and the peers;
- ``cancel``: cancellation latency, mid-stream and while the server stalls;
- ``startup``: start-up times of janito-core's commands and of the peers;
- ``concurrency``: 100 to 1,000 generations at once, four clients, a compiled server;
- ``report``: only rewrite docs/benchmarks.md and the plot from bench/results/.

``--quick`` makes every section small, to try the suite out; its figures are not for the page.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from bench.common import Sizes, load, log, machine, save
from bench.peers import prepare_environment

SECTIONS = ("overhead", "cancel", "startup", "concurrency")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the suite out")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SECTION",
        help=f"run only these sections ({', '.join((*SECTIONS, 'report'))}); repeatable",
    )
    parser.add_argument(
        "--no-report", action="store_true", help="do not rewrite docs/benchmarks.md and the plot"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    chosen = [s.strip() for item in args.only for s in item.split(",") if s.strip()]
    unknown = sorted(set(chosen) - {*SECTIONS, "report"})
    if unknown:
        log(f"unknown section(s): {', '.join(unknown)}")
        return 2
    run_sections = [s for s in SECTIONS if not chosen or s in chosen]
    sizes = Sizes.small() if args.quick else Sizes.full()
    prepare_environment()
    started = time.monotonic()
    if run_sections:
        info = machine()
        info["quick"] = sizes.quick
        info["sizes"] = sizes.as_dict()
        previous = load("machine") or {}
        info["sections"] = {**previous.get("sections", {})}
        from bench.server import ServerProcess

        with ServerProcess() as server:
            for section in run_sections:
                t0 = time.monotonic()
                result = _run_section(section, sizes, server)
                result["quick"] = sizes.quick
                result["date"] = info["date"]
                save(section, result)
                info["sections"][section] = {
                    "date": info["date"],
                    "quick": sizes.quick,
                    "seconds": round(time.monotonic() - t0, 1),
                }
                log(f"{section}: done in {time.monotonic() - t0:.0f} s")
        info["total_seconds"] = round(time.monotonic() - started, 1)
        save("machine", info)
    if not args.no_report and (not chosen or "report" in chosen or run_sections):
        from bench import report

        page = report.write()
        log(f"wrote {page}")
    log(f"total {time.monotonic() - started:.0f} s")
    return 0


def _run_section(section: str, sizes: Sizes, server: object) -> dict[str, object]:
    from bench.server import ServerProcess

    assert isinstance(server, ServerProcess)
    if section == "overhead":
        from bench import overhead

        return overhead.run(sizes, server)
    if section == "cancel":
        from bench import cancel

        return cancel.run(sizes, server)
    if section == "startup":
        from bench import startup

        return startup.run(sizes)
    from bench import concurrency

    return concurrency.run(sizes)


if __name__ == "__main__":
    sys.exit(main())
