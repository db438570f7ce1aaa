from __future__ import annotations

import textwrap
from typing import Any

import pytest

from janito_core import LLMDriver
from janito_core.testing.conformance import (
    CAPABILITIES,
    REASONING,
    DriverConformanceTests,
    conformance_override,
)
from janito_core.testing.scenario import Scenario, WireAdapter
from janito_core.testing.server import RecordedRequest, Reply

pytest_plugins = ["pytester"]


class NoWire(WireAdapter):
    """An adapter the guard tests never get to use."""

    unsupported = {REASONING: "this provider does not stream its thinking"}

    def make_driver(self, base_url: str, **config: Any) -> LLMDriver:
        raise NotImplementedError

    def reply(self, scenario: Scenario) -> Reply:
        raise NotImplementedError

    def tool_results(self, request: RecordedRequest) -> list[tuple[str, str]]:
        raise NotImplementedError


def test_overriding_a_standard_test_without_a_mark_fails_at_class_creation() -> None:
    with pytest.raises(TypeError, match=r"test_unknown_tool replaces a standard conformance test"):

        class Quiet(DriverConformanceTests):
            adapter = NoWire()

            def test_unknown_tool(self) -> None:
                pass


def test_setting_a_standard_test_to_none_fails() -> None:
    with pytest.raises(TypeError, match="test_cut_after_content"):

        class Quiet(DriverConformanceTests):
            test_cut_after_content = None


def test_a_marked_override_is_accepted() -> None:
    class Deliberate(DriverConformanceTests):
        adapter = NoWire()

        @conformance_override("the provider answers 401 with a redirect to its login page")
        def test_401_is_not_retried(self) -> None:
            pass

    assert Deliberate.test_401_is_not_retried is not DriverConformanceTests.test_401_is_not_retried


def test_the_guard_applies_to_subclasses_of_subclasses() -> None:
    class Base(DriverConformanceTests):
        @conformance_override("reason")
        def test_read_timeout(self) -> None:
            pass

    with pytest.raises(TypeError, match="test_read_timeout"):

        class Sub(Base):
            def test_read_timeout(self) -> None:
                pass


def test_new_tests_need_no_mark() -> None:
    class Extra(DriverConformanceTests):
        adapter = NoWire()

        def test_my_provider_specific_thing(self) -> None:
            pass

    assert Extra.test_my_provider_specific_thing


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_an_override_needs_a_reason(reason: Any) -> None:
    with pytest.raises(TypeError, match="needs a reason"):
        conformance_override(reason)


def test_the_mark_used_without_a_reason_fails() -> None:
    with pytest.raises(TypeError, match="needs a reason"):

        @conformance_override  # type: ignore[arg-type]
        def test_unknown_tool(self: object) -> None:
            pass


def test_the_adapter_must_be_an_instance() -> None:
    with pytest.raises(TypeError, match="an instance, not the class"):

        class Careless(DriverConformanceTests):
            adapter = NoWire  # type: ignore[assignment]


def test_unsupported_capability_skips_with_its_reason() -> None:
    class Limited(DriverConformanceTests):
        adapter = NoWire()

    with pytest.raises(pytest.skip.Exception, match="does not stream its thinking"):
        Limited().require(REASONING)
    Limited().require(next(iter(CAPABILITIES - {REASONING})))  # supported: no skip


def test_an_unknown_capability_is_a_mistake() -> None:
    class Limited(DriverConformanceTests):
        adapter = NoWire()

    with pytest.raises(ValueError, match="unknown capability 'reasonning'"):
        Limited().require("reasonning")


def test_a_plugin_authors_module_runs(pytester: pytest.Pytester) -> None:
    """What a plugin author writes, run by pytest: the skip reason shows; the fixture works."""
    pytester.makepyfile(
        test_author=textwrap.dedent(
            """
            from janito_core.testing.conformance import DriverConformanceTests, REASONING
            from janito_core.testing.scenario import WireAdapter
            from janito_core.testing.server import Reply

            pytest_plugins = ["janito_core.testing.fixtures"]


            class NoThinking(WireAdapter):
                unsupported = {REASONING: "no thinking on this wire"}

                def make_driver(self, base_url, **config):
                    raise NotImplementedError

                def reply(self, scenario):
                    raise NotImplementedError

                def tool_results(self, request):
                    raise NotImplementedError


            class TestLimited(DriverConformanceTests):
                adapter = NoThinking()


            def test_wire_server_fixture(wire_server):
                wire_server.enqueue(Reply(body={"ok": True}))
                assert wire_server.url.startswith("http://127.0.0.1:")
            """
        )
    )
    result = pytester.runpytest("-rs", "-k", "reasoning or capabilities or wire_server")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*reasoning unsupported: no thinking on this wire*"])
