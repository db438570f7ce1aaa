"""The OpenAI-compatible presets (deepseek, groq, ...), built by name through the registry and
talking to the loopback server with the real SDK: defaults, key variables, the URL path each
sends to, Azure's deployment URL and api-key header, DeepSeek's reasoning_content round trip and
OpenRouter's comment lines."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from janito_driver_openai.driver import OpenAIDriver
from janito_driver_openai.plugin import PRESETS
from openai_wire import chat_chunk, chat_reply, error_reply

from janito_core import events as ev
from janito_core.errors import DriverConfigError
from janito_core.harness import EventStream
from janito_core.messages import Message
from janito_core.registry import get_driver, list_drivers
from janito_core.testing import closing_drivers, finished_event, reasoning_of, text_of
from janito_core.testing.server import Send, WireServer
from janito_core.tools import Tool

Run = Callable[[EventStream], list[ev.Event]]
Build = Callable[..., OpenAIDriver]

KEY = "sk-preset-test-key"
KEYED = sorted(name for name, (_, p) in PRESETS.items() if p.get("requires_api_key", True))
KEYLESS = sorted(name for name in PRESETS if name not in KEYED)
EXPECTED = {
    "deepseek": ("https://api.deepseek.com", "DEEPSEEK_API_KEY", "deepseek"),
    "groq": ("https://api.groq.com/openai/v1", "GROQ_API_KEY", "groq"),
    "openrouter": ("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", "openrouter"),
    "together": ("https://api.together.ai/v1", "TOGETHER_API_KEY", "together"),
    "xai": ("https://api.x.ai/v1", "XAI_API_KEY", "x-ai"),
    "ollama": ("http://localhost:11434/v1", None, None),
    "vllm": ("http://localhost:8000/v1", None, None),
    "azure-openai": (None, "AZURE_OPENAI_API_KEY", "azure"),
}
DONE = chat_reply([chat_chunk({"content": "done"}), chat_chunk(finish_reason="stop")])


def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


@pytest.fixture
def build() -> Iterator[Build]:
    """``build(name, **config)``: the preset through ``get_driver``; all closed at teardown."""

    def make(**config: Any) -> OpenAIDriver:
        config.setdefault("retry_base_delay", 0.01)
        driver = get_driver(config.pop("preset"), **config)
        assert isinstance(driver, OpenAIDriver)
        return driver

    with closing_drivers(make) as made:
        yield lambda name, **config: made(preset=name, **config)


@pytest.fixture(autouse=True)
def _no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION"):
        monkeypatch.delenv(variable, raising=False)
    for _, preset in PRESETS.values():
        for variable in preset.get("api_key_env", ()):
            monkeypatch.delenv(variable, raising=False)


def test_every_preset_is_listed_as_a_driver_of_the_openai_distribution() -> None:
    infos = {i.name: i for i in list_drivers()}
    assert set(EXPECTED) == set(PRESETS)
    for name in PRESETS:
        info = infos[name]
        assert info.ok, info.error
        assert info.distribution == "janito-driver-openai"
        assert info.target == "janito_driver_openai.driver:OpenAIDriver"
        assert info.preset is not None and info.description


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_each_preset_builds_with_its_defaults(name: str, build: Build) -> None:
    base_url, variable, price = EXPECTED[name]
    config: dict[str, Any] = {"api_key": KEY}
    if name == "azure-openai":
        config["base_url"] = "https://example-resource.openai.azure.com"
    if name == "vllm":
        config["model"] = "served-model"
    driver = build(name, **config)
    assert driver.name == name
    assert type(driver).name == name and OpenAIDriver.name == "openai"
    assert driver.config.base_url == (base_url or config["base_url"])
    assert driver.config.model == (config.get("model") or PRESETS[name][1]["default_model"])
    assert driver.api_key_env[:1] == ((variable,) if variable else driver.api_key_env[:1])
    assert type(driver).price_provider == price
    assert KEY not in repr(driver)


@pytest.mark.parametrize("name", KEYED)
def test_a_missing_key_names_the_preset_s_variable(name: str) -> None:
    variable = EXPECTED[name][1]
    assert variable is not None
    with pytest.raises(DriverConfigError) as caught:
        get_driver(name, base_url="http://127.0.0.1:9/v1")
    assert variable in str(caught.value) and f"The {name} driver" in str(caught.value)
    assert "OPENAI_API_KEY" not in str(caught.value).replace(variable, "")


@pytest.mark.parametrize("name", KEYED)
def test_the_key_comes_from_the_preset_s_variable(
    name: str, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = EXPECTED[name][1]
    assert variable is not None
    monkeypatch.setenv(variable, KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://example-resource.openai.azure.com")
    assert build(name).config.api_key == KEY


def test_keyless_presets_never_send_openai_s_key(
    build: Build, server: WireServer, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The SDK alone would pick OPENAI_API_KEY up and send it to the local server.
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    for name in KEYLESS:
        server.enqueue(DONE)
        driver = build(name, base_url=f"{server.url}/v1", model="m")
        run(driver.stream_generate("Q"))
    for request in server.requests:
        assert "sk-openai-secret" not in request.headers.get("authorization", "")


def test_vllm_needs_a_model() -> None:
    with pytest.raises(DriverConfigError, match="vllm driver needs a model"):
        get_driver("vllm")


@pytest.mark.parametrize("name", sorted(set(PRESETS) - {"azure-openai"}))
def test_each_preset_sends_to_its_base_url_s_path(
    name: str, build: Build, server: WireServer, run: Run
) -> None:
    # The preset's own path on the loopback host: the SDK joins /chat/completions to it.
    path = urlsplit(EXPECTED[name][0]).path
    server.enqueue(DONE)
    config: dict[str, Any] = {"base_url": f"{server.url}{path}"}
    if name in KEYED:
        config["api_key"] = KEY
    if name == "vllm":
        config["model"] = "served-model"
    driver = build(name, **config)
    events = run(driver.stream_generate("Q"))
    assert text_of(events) == "done"
    (request,) = server.requests
    assert request.path == f"{path}/chat/completions"
    assert request.json["model"] == driver.config.model
    expected = f"Bearer {KEY}" if name in KEYED else "Bearer no-key"
    assert request.headers["authorization"] == expected


def test_azure_sends_to_the_deployment_with_an_api_key_header(
    build: Build, server: WireServer, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", server.url)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    server.enqueue(DONE)
    driver = build("azure-openai", model="my-deployment")
    events = run(driver.stream_generate("Q"))
    assert text_of(events) == "done"
    (request,) = server.requests
    assert request.path == "/openai/deployments/my-deployment/chat/completions"
    assert request.query["api-version"] == PRESETS["azure-openai"][1]["azure_api_version"]
    assert request.headers["api-key"] == KEY
    assert "authorization" not in request.headers


def test_azure_without_an_endpoint_names_the_variable() -> None:
    with pytest.raises(DriverConfigError, match="AZURE_OPENAI_ENDPOINT"):
        get_driver("azure-openai", api_key=KEY)


def test_azure_errors_name_the_azure_key_variable(
    build: Build, server: WireServer, run: Run
) -> None:
    server.enqueue(
        error_reply(401, "Access denied due to invalid subscription key or wrong API endpoint.")
    )
    driver = build("azure-openai", api_key=KEY, base_url=server.url, max_retries=0)
    events = run(driver.stream_generate("Q"))
    (error,) = [e for e in events if isinstance(e, ev.RequestError)]
    assert error.status_code == 401
    assert "AZURE_OPENAI_API_KEY" in error.error
    assert "OPENAI_API_KEY" not in error.error.replace("AZURE_OPENAI_API_KEY", "")
    assert KEY not in error.error


def test_deepseek_reasoning_content_goes_back_on_the_tool_loop(
    build: Build, server: WireServer, run: Run
) -> None:
    call = {
        "index": 0,
        "id": "call_00_ds",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"key": "a"}'},
    }
    server.enqueue(
        chat_reply(
            [
                chat_chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
                chat_chunk({"content": None, "reasoning_content": "I should look it up."}),
                chat_chunk({"tool_calls": [call]}),
                chat_chunk({}, finish_reason="tool_calls"),
            ]
        ),
        chat_reply(
            [
                chat_chunk({"reasoning_content": "Now answer."}),
                chat_chunk({"content": "It is a."}),
                chat_chunk({}, finish_reason="stop"),
            ]
        ),
        DONE,
    )
    driver = build("deepseek", api_key=KEY, base_url=f"{server.url}")
    tools = [Tool.from_function(lookup)]
    events = run(driver.stream_generate("go", tools=tools))
    assert reasoning_of(events) == "I should look it up.Now answer."
    second = server.requests[1].json["messages"]
    assert second[1] == {
        "role": "assistant",
        "reasoning_content": "I should look it up.",
        "content": None,
        "tool_calls": [
            {
                "id": "call_00_ds",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"key": "a"}'},
            }
        ],
    }
    # The next user turn: both turns of the tool loop carry their reasoning.
    history = [*finished_event(events).messages]
    run(driver.stream_generate(messages=[*_user("go"), *history, *_user("and b?")], tools=tools))
    third = server.requests[2].json["messages"]
    assistants = [m for m in third if m["role"] == "assistant"]
    assert [m.get("reasoning_content") for m in assistants] == [
        "I should look it up.",
        "Now answer.",
    ]


def test_plain_openai_never_sends_reasoning_content(
    server: WireServer, run: Run, build: Build
) -> None:
    call = {
        "index": 0,
        "id": "c1",
        "type": "function",
        "function": {"name": "lookup", "arguments": "{}"},
    }
    server.enqueue(
        chat_reply(
            [
                chat_chunk({"reasoning_content": "think"}),
                chat_chunk({"tool_calls": [call]}),
                chat_chunk({}, finish_reason="tool_calls"),
            ]
        ),
        DONE,
    )
    driver = build("openai", api_key=KEY, base_url=f"{server.url}/v1")
    run(driver.stream_generate("go", tools=[Tool.from_function(lookup)]))
    assert all("reasoning_content" not in m for m in server.requests[1].json["messages"])


def test_openrouter_comment_lines_and_reasoning_field(
    build: Build, server: WireServer, run: Run
) -> None:
    comment = Send(": OPENROUTER PROCESSING\n\n")
    server.enqueue(
        chat_reply(
            [
                comment,
                chat_chunk({"role": "assistant", "content": ""}),
                comment,
                chat_chunk({"content": "", "reasoning": "Thinking it over."}),
                chat_chunk({"content": "Hel"}),
                comment,
                chat_chunk({"content": "lo"}),
                chat_chunk({}, finish_reason="stop"),
            ]
        )
    )
    driver = build("openrouter", api_key=KEY, base_url=f"{server.url}/api/v1")
    events = run(driver.stream_generate("Q"))
    assert text_of(events) == "Hello"
    assert reasoning_of(events) == "Thinking it over."
    assert finished_event(events).finish_reason == "stop"


def _user(text: str) -> list[Message]:
    return [Message.user(text)]
