"""Every way the benchmarks stream one answer: janito-core, the bare SDK, and the peers.

A ``Client`` opens one streamed request against the loopback server and hands back an
``Opened``: the answer's text pieces as an iterator, and ``stop``, the client's own documented
way of stopping early (what a user of that library would write after breaking out of the loop).

- ``sdk``: the provider's SDK in a plain loop, the floor every ratio is taken against.
- ``janito``: ``get_driver(...).stream_generate(...)``; stops with ``stream.close()``.
- ``any-llm`` (``any-llm-sdk``): ``any_llm.completion(..., stream=True)``; stops with the
  returned iterator's ``close()``.
- ``litellm``: ``litellm.completion(..., stream=True)``; stops with ``CustomStreamWrapper.close()``.
- ``llm``: an OpenAI model declared in ``extra-openai-models.yaml`` with ``api_base`` (llm's
  documented way to point it at another server); ``Response`` has no close, so breaking out of
  the loop and dropping the response is all a user can do.

Peers are pointed at the server only through their documented base-URL settings. Where a peer
has none for a provider, its row is "n/a" with the reason (``Unavailable``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.wire import API_KEY, MODELS, PROVIDERS, Provider

CLIENTS = ("sdk", "janito", "any-llm", "litellm", "llm")
PEERS = ("any-llm", "litellm", "llm")
PROMPT = "Tell me a long story."
# Typed loosely: each SDK declares its own message type for the same JSON shape.
MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]

# The plugins of the development environment that are not janito-core's own three drivers.
DISABLED_PLUGINS = (
    "janito-otel,janito-driver-broken,janito-driver-testthirdparty,janito-driver-example"
)

# How each client stops early, as the report states it.
STOP_HOW = {
    "sdk": "`break`, then the SDK stream's `close()`",
    "janito": "`cancel_event.set()` from another thread, or `break` + `stream.close()`",
    "any-llm": "`break`, then the iterator's `close()`",
    "litellm": "`break`, then `CustomStreamWrapper.close()`",
    "llm": "`break` and drop the `Response` (it has no close)",
}


@dataclass
class Opened:
    """One request in flight: its text pieces, and how to stop it early."""

    texts: Iterator[str]
    stop: Callable[[], None]


@dataclass(frozen=True)
class Client:
    """One library streaming from one provider."""

    name: str
    provider: Provider
    open: Callable[[], Opened]


@dataclass(frozen=True)
class Unavailable:
    """A client that cannot run here, and why."""

    name: str
    provider: Provider
    reason: str


def base_url(provider: Provider, url: str) -> str:
    """The base URL each provider's clients are given for the loopback server at ``url``."""
    return f"{url}/v1" if provider == "openai" else url


def prepare_environment() -> None:
    """Environment for every client: no network lookups, no stray plugins, a private llm home.

    Called before any peer is imported: LiteLLM fetches its model cost map from the network at
    import unless ``LITELLM_LOCAL_MODEL_COST_MAP`` is set.
    """
    os.environ["JANITO_DISABLE_PLUGINS"] = DISABLED_PLUGINS
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ.setdefault("LLM_USER_PATH", tempfile.mkdtemp(prefix="bench-llm-"))
    for name in ("OPENAI_BASE_URL", "GOOGLE_GEMINI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY"):
        os.environ.pop(name, None)


def write_llm_models(url: str) -> Path:
    """Declare llm's OpenAI model on the loopback server (``extra-openai-models.yaml``)."""
    home = Path(os.environ["LLM_USER_PATH"])
    home.mkdir(parents=True, exist_ok=True)
    path = home / "extra-openai-models.yaml"
    path.write_text(
        "- model_id: bench-openai\n"
        f"  model_name: {MODELS['openai']}\n"
        f"  api_base: {base_url('openai', url)}\n",
        encoding="utf-8",
    )
    return path


# -- the floor: each SDK alone -------------------------------------------------------------


def _sdk(provider: Provider, url: str) -> Client:
    if provider == "openai":
        import openai

        oa = openai.OpenAI(api_key=API_KEY, base_url=base_url(provider, url), max_retries=0)

        def open_openai() -> Opened:
            stream = oa.chat.completions.create(
                model=MODELS["openai"],
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )

            def texts() -> Iterator[str]:
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        yield chunk.choices[0].delta.content

            return Opened(texts(), stream.close)

        return Client("sdk", provider, open_openai)
    if provider == "gemini":
        from google import genai
        from google.genai import types

        gc = genai.Client(api_key=API_KEY, http_options=types.HttpOptions(base_url=url))

        def open_gemini() -> Opened:
            chunks = gc.models.generate_content_stream(model=MODELS["gemini"], contents=PROMPT)

            def texts() -> Iterator[str]:
                for chunk in chunks:
                    if chunk.text:
                        yield chunk.text

            return Opened(texts(), _close_of(chunks))

        return Client("sdk", provider, open_gemini)
    if provider == "anthropic":
        import anthropic

        ac = anthropic.Anthropic(api_key=API_KEY, base_url=url, max_retries=0)

        def open_anthropic() -> Opened:
            stream = ac.messages.create(
                model=MODELS["anthropic"], max_tokens=4096, messages=MESSAGES, stream=True
            )

            def texts() -> Iterator[str]:
                for event in stream:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        yield event.delta.text

            return Opened(texts(), stream.close)

        return Client("sdk", provider, open_anthropic)
    from mistralai.client import Mistral

    mc = Mistral(api_key=API_KEY, server_url=url)

    def open_mistral() -> Opened:
        stream = mc.chat.stream(model=MODELS["mistral"], messages=MESSAGES)

        def texts() -> Iterator[str]:
            for event in stream:
                content = event.data.choices[0].delta.content
                if isinstance(content, str) and content:
                    yield content

        return Opened(texts(), stream.close)

    return Client("sdk", provider, open_mistral)


# -- janito-core -----------------------------------------------------------------------------


def janito_driver(provider: Provider, url: str) -> Any:
    """A janito-core driver for ``provider`` on the loopback server."""
    from janito_core import get_driver

    return get_driver(
        provider, model=MODELS[provider], api_key=API_KEY, base_url=base_url(provider, url)
    )


def _janito(provider: Provider, url: str) -> Client:
    from janito_core.events import ContentPartFound

    driver = janito_driver(provider, url)

    def open_janito() -> Opened:
        stream = driver.stream_generate(PROMPT)

        def texts() -> Iterator[str]:
            for event in stream:
                if type(event) is ContentPartFound:
                    yield event.content_part

        return Opened(texts(), stream.close)

    return Client("janito", provider, open_janito)


# -- peers -----------------------------------------------------------------------------------


def _close_of(obj: object) -> Callable[[], None]:
    close = getattr(obj, "close", None)
    return close if callable(close) else (lambda: None)


def _any_llm(provider: Provider, url: str) -> Client:
    import any_llm

    def open_any_llm() -> Opened:
        chunks: Any = any_llm.completion(
            model=MODELS[provider],
            provider=provider,
            api_key=API_KEY,
            api_base=base_url(provider, url),
            messages=MESSAGES,
            stream=True,
        )

        def texts() -> Iterator[str]:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        return Opened(texts(), _close_of(chunks))

    return Client("any-llm", provider, open_any_llm)


_LITELLM_PREFIX = {
    "openai": "openai",
    "gemini": "gemini",
    "mistral": "mistral",
    "anthropic": "anthropic",
}
# LiteLLM's api_base for each provider on the loopback server at ``url``.
_LITELLM_BASE = {"openai": "{url}/v1", "mistral": "{url}/v1", "anthropic": "{url}/v1/messages"}


def _litellm(provider: Provider, url: str) -> Client:
    import litellm

    def open_litellm() -> Opened:
        chunks: Any = litellm.completion(
            model=f"{_LITELLM_PREFIX[provider]}/{MODELS[provider]}",
            api_key=API_KEY,
            api_base=_LITELLM_BASE.get(provider, "{url}").format(url=url),
            messages=MESSAGES,
            stream=True,
            num_retries=0,
        )

        def texts() -> Iterator[str]:
            for chunk in chunks:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content

        return Opened(texts(), _close_of(chunks))

    return Client("litellm", provider, open_litellm)


def _llm(provider: Provider, url: str) -> Client | Unavailable:
    if provider == "gemini":
        return Unavailable(
            "llm",
            provider,
            "llm-gemini hard-codes https://generativelanguage.googleapis.com and has no "
            "base-URL setting, so it cannot be pointed at the loopback server",
        )
    if provider in ("mistral", "anthropic"):
        plugin = f"llm-{provider}"
        return Unavailable(
            "llm", provider, f"llm reaches {provider} through the {plugin} plugin, not compared"
        )
    import llm

    write_llm_models(url)
    model = llm.get_model("bench-openai")

    def open_llm() -> Opened:
        response: Any = model.prompt(PROMPT, stream=True)

        def texts() -> Iterator[str]:
            for piece in response:
                if piece:
                    yield piece

        return Opened(texts(), lambda: None)

    return Client("llm", provider, open_llm)


def make_client(name: str, provider: Provider, url: str) -> Client | Unavailable:
    """The client ``name`` for ``provider``, or why it is unavailable."""
    try:
        if name == "sdk":
            return _sdk(provider, url)
        if name == "janito":
            return _janito(provider, url)
        if name == "any-llm":
            return _any_llm(provider, url)
        if name == "litellm":
            return _litellm(provider, url)
        if name == "llm":
            return _llm(provider, url)
    except ImportError as exc:
        return Unavailable(name, provider, f"not installed ({exc}); run `uv sync --group bench`")
    raise ValueError(f"unknown client {name!r}")


def all_clients(url: str) -> list[Client | Unavailable]:
    """Every client for every provider, sdk and janito first."""
    return [make_client(name, p, url) for p in PROVIDERS for name in CLIENTS]
