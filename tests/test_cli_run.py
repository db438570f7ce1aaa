"""The pieces of ``run`` in this process: prompt rules, flag wording, the console, the indicator."""

from __future__ import annotations

import io
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from janito_core.cli import prompt as prompt_module
from janito_core.cli.app import build_parser
from janito_core.cli.indicator import ERASE, RESET, Indicator
from janito_core.cli.prompt import PromptError, read_prompt
from janito_core.cli.run import Console, in_flag_words, run, usage_line
from janito_core.parts import FinishPart, TextPart, UsagePart
from janito_core.testing import ScriptedDriver
from janito_core.usage import Usage


class Terminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class Recorder(io.StringIO):
    """Keeps each write separately."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


class ClosedPipe(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


# -- the prompt -----------------------------------------------------------------------------------


def test_the_argument_alone_when_stdin_is_a_terminal() -> None:
    assert read_prompt("hi", Terminal("never read"), io.StringIO()) == "hi"


def test_piped_text_then_one_space_then_the_argument() -> None:
    assert read_prompt("explain", io.StringIO("code\n"), io.StringIO()) == "code\n explain"


def test_piped_text_alone_and_dash() -> None:
    assert read_prompt(None, io.StringIO("piped\n"), io.StringIO()) == "piped\n"
    assert read_prompt("-", io.StringIO("dash"), io.StringIO()) == "dash"


def test_an_empty_pipe_leaves_the_argument() -> None:
    assert read_prompt("hi", io.StringIO(""), io.StringIO()) == "hi"
    assert read_prompt("hi", None, io.StringIO()) == "hi"  # descriptor 0 closed


def test_no_prompt_at_all_says_how_to_give_one() -> None:
    with pytest.raises(PromptError, match="give PROMPT, pipe it on standard input, or pass -"):
        read_prompt(None, io.StringIO(" \n"), io.StringIO())


def test_typing_the_prompt_in_a_terminal_is_explained() -> None:
    err = Terminal()
    assert read_prompt(None, Terminal("typed\n"), err) == "typed\n"
    assert "Ctrl-D" in err.getvalue()


@pytest.mark.skipif(os.name == "nt", reason="select() on a pipe")
def test_a_stdin_left_open_gets_a_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompt_module, "HINT_AFTER", 0.01)
    read_end, write_end = os.pipe()
    hinted = threading.Event()

    class Stderr(io.StringIO):
        def write(self, text: str) -> int:
            if "still reading" in text:
                hinted.set()
            return super().write(text)

    def writer() -> None:
        hinted.wait(10)
        os.write(write_end, b"late")
        os.close(write_end)

    thread = threading.Thread(target=writer)
    thread.start()
    with open(read_end) as stdin:
        err = Stderr()
        assert read_prompt("arg", stdin, err) == "late arg"
    thread.join()
    assert "< /dev/null" in err.getvalue()


# -- wording, usage --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("core", "cli"),
    [
        (
            "The openai driver needs an API key: set OPENAI_API_KEY or pass api_key=...",
            "The openai driver needs an API key: set OPENAI_API_KEY or pass --key",
        ),
        (
            "HTTP 401: the API key was refused; check OPENAI_API_KEY or pass api_key=",
            "HTTP 401: the API key was refused; check OPENAI_API_KEY or pass --key",
        ),
        ("check the model name and base_url", "check the model name and --base-url"),
        ("my_api_key=1 and base_urls", "my_api_key=1 and base_urls"),
    ],
)
def test_core_texts_name_the_flags(core: str, cli: str) -> None:
    assert in_flag_words(core) == cli


def test_usage_line_says_what_is_part_of_what() -> None:
    usage = Usage(input_tokens=1200, output_tokens=30, cached_input_tokens=1000, reasoning_tokens=7)
    assert usage_line(usage) == "Tokens: 1,200 input (1,000 cached), 30 output (7 reasoning)"


def test_usage_line_shows_cache_writes_when_there_are_some() -> None:
    usage = Usage(
        input_tokens=1200, output_tokens=30, cached_input_tokens=10, cache_write_tokens=900
    )
    assert usage_line(usage) == (
        "Tokens: 1,200 input (10 cached, 900 cache writes), 30 output (0 reasoning)"
    )


def test_usage_line_never_shows_unreported_usage_as_zeros() -> None:
    assert usage_line(Usage(missing=True)) == "Tokens: usage not reported by the provider"
    partly = Usage(input_tokens=5, output_tokens=2, missing=True)
    assert usage_line(partly) == (
        "Tokens: 5 input (0 cached), 2 output (0 reasoning),"
        " usage not reported by the provider for every request"
    )


# -- -r and -u against a driver played in this process ---------------------------------------------


class Priced(ScriptedDriver):
    """A scripted driver the price table knows as OpenAI's."""

    name = "priced"
    price_provider = "openai"


def run_with(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, driver: ScriptedDriver, *flags: str
) -> tuple[int, str, str]:
    from janito_core import registry

    monkeypatch.setenv("JANITO_HOME", str(tmp_path))
    monkeypatch.setattr(registry, "get_driver", lambda name, **config: driver)
    args = build_parser().parse_args(["run", "-d", "priced", "--no-log", *flags, "hi"])
    out, err = io.StringIO(), io.StringIO()
    status = run(args, io.StringIO(), out, err)
    return status, out.getvalue(), err.getvalue()


def answer(usage: Usage | None = None) -> list[list[object]]:
    parts: list[object] = [TextPart("hello")]
    if usage is not None:
        parts.append(UsagePart(usage))
    return [[*parts, FinishPart("stop")]]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [((), None), (("-r", "high"), "high"), (("--reasoning", "4096"), 4096), (("-r", "0"), 0)],
)
def test_reasoning_goes_to_the_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, flags: tuple[str, ...], expected: object
) -> None:
    driver = Priced(answer(), model="gpt-4o-mini")
    status, out, _ = run_with(monkeypatch, tmp_path, driver, *flags)
    assert (status, out) == (0, "hello\n")
    assert [r.reasoning for r in driver.requests] == [expected]


def test_usage_prints_the_cost_in_dollars(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("genai_prices", reason="the price table needs Python >= 3.11")
    usage = Usage(input_tokens=1_200, cached_input_tokens=1_024, output_tokens=40)
    driver = Priced(answer(usage), model="gpt-4o-mini")
    status, _, err = run_with(monkeypatch, tmp_path, driver, "-u")
    # genai-prices: gpt-4o-mini 0.15 input, 0.075 cache read, 0.6 output USD per million.
    cost = (176 * Decimal("0.15") + 1_024 * Decimal("0.075") + 40 * Decimal("0.6")) / 10**6
    assert cost == Decimal("0.0001272")
    assert status == 0
    assert err == "Tokens: 1,200 input (1,024 cached), 40 output (0 reasoning); cost $0.0001272\n"


def test_a_tiny_cost_is_printed_in_full(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("genai_prices", reason="the price table needs Python >= 3.11")
    driver = Priced(answer(Usage(input_tokens=1)), model="gpt-4o-mini")
    _, _, err = run_with(monkeypatch, tmp_path, driver, "-u")
    assert err.endswith("; cost $0.00000015\n")  # not 1.5E-7


def test_usage_says_why_a_cost_is_unknown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytest.importorskip("genai_prices", reason="the price table needs Python >= 3.11")
    driver = Priced(answer(Usage(input_tokens=3, output_tokens=1)), model="gpt-nonexistent-9")
    _, _, err = run_with(monkeypatch, tmp_path, driver, "-u")
    assert err == (
        "Tokens: 3 input (0 cached), 1 output (0 reasoning);"
        " cost unknown (the price table does not know 'gpt-nonexistent-9' at 'openai')\n"
    )


def test_usage_the_provider_did_not_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    driver = Priced(answer(), model="gpt-4o-mini")
    _, _, err = run_with(monkeypatch, tmp_path, driver, "-u")
    assert err == "Tokens: usage not reported by the provider; cost unknown\n"


# -- the console -----------------------------------------------------------------------------------


def test_a_closed_stdout_cancels_once_and_writes_nothing_more() -> None:
    cancels: list[None] = []
    err = io.StringIO()
    console = Console(ClosedPipe(), err)
    console.start_waiting("waiting", lambda: cancels.append(None))
    console.answer("first")
    console.answer("second")
    console.end_answer()
    assert console.stdout_closed and len(cancels) == 1
    console.note("still said\n")
    assert err.getvalue() == "still said\n"  # stderr is not a terminal: no indicator in it


def test_a_closed_stderr_only_silences_the_messages() -> None:
    out = io.StringIO()
    console = Console(out, ClosedPipe())
    console.note("lost\n")
    console.answer("kept")
    console.end_answer()
    assert out.getvalue() == "kept\n" and not console.stdout_closed


def test_no_stream_writes_the_answer_once_at_the_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JANITO_HOME", str(tmp_path))
    args = build_parser().parse_args(["run", "-d", "echo", "--no-stream", "one two three"])
    out, streamed = Recorder(), Recorder()
    assert run(args, io.StringIO(), out, io.StringIO()) == 0
    assert out.writes == ["Echo: one two three", "\n"]
    args = build_parser().parse_args(["run", "-d", "echo", "one two three"])
    assert run(args, io.StringIO(), streamed, io.StringIO()) == 0
    assert streamed.writes == ["Echo:", " one", " two", " three", "\n"]


# -- the indicator ---------------------------------------------------------------------------------


def test_the_indicator_draws_then_erases_itself(no_leaked_threads: None) -> None:
    stream = Terminal()
    with Indicator(stream, "waiting for echo") as indicator:
        assert indicator.enabled
        indicator.message("[retry 1 in 0.5s]\n")
        deadline = time.monotonic() + 10
        while "waiting" not in stream.getvalue().split("[retry")[1]:  # it turns on below
            assert time.monotonic() < deadline, stream.getvalue()
            time.sleep(0.01)
    before, after = stream.getvalue().split("[retry 1 in 0.5s]\n")
    assert "waiting for echo" in before  # drawn at once, before anything else
    assert before.endswith(ERASE + RESET)  # erased before the message
    assert after.endswith(ERASE + RESET)  # and at the end, colour reset


def test_the_indicator_needs_no_colour_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Terminal()
    with Indicator(stream, "waiting"):
        pass
    assert "\x1b[2m" not in stream.getvalue() and stream.getvalue().endswith(ERASE)


def test_no_indicator_outside_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    with Indicator(stream, "waiting") as indicator:
        indicator.message("a line\n")
    assert stream.getvalue() == "a line\n"
    monkeypatch.setenv("TERM", "dumb")
    assert not Indicator(Terminal(), "waiting").enabled
