"""``run -a FILE`` and ``run --schema FILE.json``: attachments and structured output on the
command line, logged so ``-c`` sends the attachment again."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from janito_core.cli.app import build_parser
from janito_core.cli.run import run
from janito_core.parts import FinishPart, TextPart
from janito_core.testing import ScriptedDriver, media

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["name", "population"],
}


def cli(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    args = build_parser().parse_args(["run", *argv])
    out, err = io.StringIO(), io.StringIO()
    status = run(args, io.StringIO(), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("JANITO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JANITO_NO_LOG", raising=False)
    return tmp_path


def test_attach_sends_files_after_the_prompt(home: Path) -> None:
    (home / "a.png").write_bytes(media.png(1))
    (home / "b.pdf").write_bytes(media.pdf())
    status, out, _ = cli(
        home, "-d", "echo", "-a", str(home / "a.png"), "--attach", str(home / "b.pdf"), "Look"
    )
    assert status == 0
    assert out == (
        f"Echo: Look [image/png, {len(media.png(1))} bytes] "
        f"[application/pdf, {len(media.pdf())} bytes]\n"
    )


def test_attach_takes_a_url(home: Path) -> None:
    status, out, _ = cli(home, "-d", "echo", "-a", "https://example.com/cat.png", "Look")
    assert (status, out) == (0, "Echo: Look [image/png, https://example.com/cat.png]\n")


def test_a_bad_attachment_fails_before_the_driver_runs(home: Path) -> None:
    status, out, err = cli(home, "-d", "echo", "-a", str(home / "missing.png"), "Look")
    assert (status, out) == (1, "")
    assert "cannot attach" in err and "no such file" in err


def test_the_attachment_is_logged_and_sent_again_by_continue(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (home / "a.png").write_bytes(media.png(7))
    assert cli(home, "-d", "echo", "-a", str(home / "a.png"), "Look")[0] == 0
    driver = ScriptedDriver([[TextPart("It is a small square."), FinishPart("stop")]])
    from janito_core import registry

    monkeypatch.setattr(registry, "get_driver", lambda name, **config: driver)
    status, out, _ = cli(home, "-c", "What was it?")
    assert (status, out) == (0, "It is a small square.\n")
    first = driver.requests[0].messages[0]
    assert first.content == "Look" and first.attachments[0].data == media.png(7)


def test_schema_prints_the_parsed_json(home: Path) -> None:
    (home / "city.json").write_text(json.dumps(SCHEMA))
    answer = '{"name": "Oslo", "population": 709000}'
    status, out, _ = cli(
        home, "-d", "echo", "--no-log", "--schema", str(home / "city.json"), answer
    )
    assert status == 0
    assert json.loads(out) == {"name": "Oslo", "population": 709000}
    assert out == json.dumps(json.loads(answer), indent=2) + "\n"


def test_an_answer_outside_the_schema_fails_the_run(home: Path) -> None:
    (home / "city.json").write_text(json.dumps(SCHEMA))
    status, out, err = cli(
        home, "-d", "echo", "--no-log", "--schema", str(home / "city.json"), '{"name": "Oslo"}'
    )
    assert (status, out) == (1, "")
    assert "'population' is a required property" in err


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, "No such file"), ("{not json", "not JSON"), ("[1, 2]", "is an object, not list")],
)
def test_a_bad_schema_file_is_refused(home: Path, content: str | None, match: str) -> None:
    path = home / "schema.json"
    if content is not None:
        path.write_text(content)
    status, out, err = cli(home, "-d", "echo", "--no-log", "--schema", str(path), "hi")
    assert (status, out) == (1, "")
    assert match in err
