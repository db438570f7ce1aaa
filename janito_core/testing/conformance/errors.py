"""The standard tests of HTTP errors: which are retried, how long after, and what they say."""

from __future__ import annotations

import pytest

from janito_core import events as ev
from janito_core.driver import LLMDriver
from janito_core.testing.conformance.base import ConformanceBase, DriverFactory
from janito_core.testing.conformance.bounds import RETRY_AFTER_SECONDS
from janito_core.testing.conformance.capabilities import RETRY_AFTER
from janito_core.testing.conformance.generation import Generation
from janito_core.testing.scenario import HttpError, Scenario, Text
from janito_core.testing.server import WireServer


class ErrorTests(ConformanceBase):
    """A client error ends the generation at once; a 429 or a 5xx is retried, within limits."""

    def test_401_is_not_retried(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        generation = self._failing(server, built, HttpError(status=401, message="bad key"))
        error = generation.one(ev.RequestError)
        assert error.status_code == 401 and not error.retryable
        assert "401" in error.error, error.error
        variables = type(built).api_key_env
        if variables:
            assert any(v in error.error for v in variables), (
                f"a refused key should name the variable to check ({', '.join(variables)}): "
                f"{error.error}"
            )

    def test_400_is_not_retried(self, server: WireServer, driver: DriverFactory) -> None:
        detail = "temperature must be at most 2"
        generation = self._failing(server, driver(), HttpError(status=400, message=detail))
        error = generation.one(ev.RequestError)
        assert error.status_code == 400 and not error.retryable
        assert "400" in error.error and detail in error.error, error.error

    def test_404_unknown_model(self, server: WireServer, driver: DriverFactory) -> None:
        built = driver()
        generation = self._failing(server, built, HttpError(status=404, message="no such model"))
        error = generation.one(ev.RequestError)
        assert error.status_code == 404 and not error.retryable
        assert "404" in error.error and built.model in error.error, error.error

    def _failing(self, server: WireServer, built: LLMDriver, error: HttpError) -> Generation:
        """Serve ``error`` once; the generation must end in error without a retry."""
        self.serve(server, Scenario(error=error))
        generation = self.generate(built)
        assert not generation.of(ev.RequestRetry), f"HTTP {error.status} was retried"
        assert len(server.requests) == 1
        assert generation.finished.status == "error"
        return generation

    def test_429_honours_retry_after(self, server: WireServer, driver: DriverFactory) -> None:
        self.require(RETRY_AFTER)
        limited = HttpError(status=429, message="slow down", retry_after=RETRY_AFTER_SECONDS)
        self.serve(server, Scenario(error=limited), Scenario(steps=(Text("Hello!"),)))
        generation = self.generate(driver())
        retry = generation.one(ev.RequestRetry)
        assert retry.status_code == 429 and retry.attempt == 1
        assert retry.delay == pytest.approx(RETRY_AFTER_SECONDS, abs=0.01)
        first, second = server.requests
        assert first.t_end is not None
        assert second.t_start - first.t_end >= RETRY_AFTER_SECONDS * 0.8, "Retry-After ignored"
        assert generation.text == "Hello!"
        assert generation.finished.status == "completed"

    def test_500_then_success(self, server: WireServer, driver: DriverFactory) -> None:
        self.serve(
            server,
            Scenario(error=HttpError(status=500, message="internal")),
            Scenario(steps=(Text("Recovered."),)),
        )
        generation = self.generate(driver())
        assert generation.one(ev.RequestRetry).status_code == 500
        assert len(server.requests) == 2
        assert generation.text == "Recovered."
        assert generation.finished.status == "completed"

    def test_retries_exhausted(self, server: WireServer, driver: DriverFactory) -> None:
        overloaded = Scenario(error=HttpError(status=503, message="overloaded"))
        self.serve(server, overloaded, overloaded)
        generation = self.generate(driver(max_retries=1))
        assert len(generation.of(ev.RequestRetry)) == 1
        assert len(server.requests) == 2
        error = generation.one(ev.RequestError)
        assert error.status_code == 503 and error.retryable
        assert generation.finished.status == "error"
