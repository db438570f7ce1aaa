"""Structured output on the wire: the exact ``response_format`` (Chat) and ``text.format``
(Responses) each form of ``output_schema=`` sends through the real SDK, on every request of a
tool loop; answers parsed or refused; DeepSeek's json_object mode; and what is refused at the
call."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from typing import Any

import pydantic
import pytest
from janito_driver_openai.convert import chat_arguments, responses_arguments
from janito_driver_openai.driver import OpenAIDriver
from openai_wire import ChatWireAdapter, ResponsesWireAdapter

from janito_core.driver import ProviderRequest
from janito_core.errors import (
    DriverConfigError,
    InvalidRequestError,
    OutputError,
)
from janito_core.messages import Message
from janito_core.registry import get_driver
from janito_core.structured import output_spec
from janito_core.testing import closing_drivers
from janito_core.testing.scenario import Call, Scenario, Text
from janito_core.testing.server import Reply, WireServer
from janito_core.tools import Tool

Make = Callable[..., OpenAIDriver]
APIS = ["chat", "responses"]

PARIS = '{"name": "Paris", "population": 2102650}'


@dataclasses.dataclass
class City:
    """A city and how many people live there."""

    name: str
    population: int


class Place(pydantic.BaseModel):
    city: str
    country: str = "France"


class Trip(pydantic.BaseModel):
    stops: list[Place]
    note: str | None = None


#: City as OpenAI receives it: closed, every property required (pydantic's titles kept).
CITY_STRICT = {
    "type": "object",
    "title": "City",
    "description": "A city and how many people live there.",
    "properties": {
        "name": {"title": "Name", "type": "string"},
        "population": {"title": "Population", "type": "integer"},
    },
    "required": ["name", "population"],
    "additionalProperties": False,
}

#: Trip as OpenAI receives it: $defs and $ref kept (strict mode takes them), optional fields
#: required but nullable, defaults gone, every object closed.
TRIP_STRICT = {
    "$defs": {
        "Place": {
            "type": "object",
            "title": "Place",
            "properties": {
                "city": {"title": "City", "type": "string"},
                "country": {"title": "Country", "type": ["string", "null"]},
            },
            "required": ["city", "country"],
            "additionalProperties": False,
        }
    },
    "type": "object",
    "title": "Trip",
    "properties": {
        "stops": {"title": "Stops", "type": "array", "items": {"$ref": "#/$defs/Place"}},
        "note": {"title": "Note", "anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "required": ["stops", "note"],
    "additionalProperties": False,
}

#: A plain schema with an optional property and a default.
BOOK = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "pages": {"type": "integer", "default": 100},
    },
    "required": ["title"],
}
BOOK_STRICT = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "pages": {"type": ["integer", "null"]}},
    "required": ["title", "pages"],
    "additionalProperties": False,
}


def lookup(city: str) -> str:
    """Look up a city's population."""
    return f"{city}: 2102650"


def reply(api: str, *steps: Text | Call) -> Reply:
    adapter = ResponsesWireAdapter() if api == "responses" else ChatWireAdapter()
    return adapter.reply(Scenario(steps=steps))


def sent_format(body: dict[str, Any], api: str) -> Any:
    """What the request asked for: Chat's response_format, or the Responses ``text``."""
    return body.get("text") if api == "responses" else body.get("response_format")


def expected(api: str, name: str, schema: dict[str, Any], strict: bool = True) -> Any:
    if api == "responses":
        return {"format": {"type": "json_schema", "name": name, "schema": schema, "strict": strict}}
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": schema, "strict": strict},
    }


# -- each form goes out in OpenAI's form -------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_a_dataclass(server: WireServer, make_driver: Make, api: str) -> None:
    server.enqueue(reply(api, Text(PARIS[:15]), Text(PARIS[15:])))
    result = make_driver(api=api).generate("Biggest city of France?", output_schema=City)
    assert result.output == City(name="Paris", population=2102650)
    assert sent_format(server.requests[0].json, api) == expected(api, "City", CITY_STRICT)


@pytest.mark.parametrize("api", APIS)
def test_a_pydantic_model(server: WireServer, make_driver: Make, api: str) -> None:
    # Strict mode makes the optional fields nullable: a null reads as "left out".
    answer = '{"stops": [{"city": "Lyon", "country": null}], "note": null}'
    server.enqueue(reply(api, Text(answer)))
    result = make_driver(api=api).generate("Plan it.", output_schema=Trip)
    assert result.output == Trip(stops=[Place(city="Lyon", country="France")], note=None)
    assert sent_format(server.requests[0].json, api) == expected(api, "Trip", TRIP_STRICT)


@pytest.mark.parametrize("api", APIS)
def test_a_schema_dict(server: WireServer, make_driver: Make, api: str) -> None:
    server.enqueue(reply(api, Text('{"title": "Dune", "pages": null}')))
    result = make_driver(api=api).generate("A book?", output_schema=BOOK)
    # The null strict mode made room for stands for "left out", as the caller's schema says.
    assert result.output == {"title": "Dune"}
    assert sent_format(server.requests[0].json, api) == expected(api, "output", BOOK_STRICT)


@pytest.mark.parametrize("api", APIS)
def test_an_open_ended_object_goes_out_loose(
    server: WireServer, make_driver: Make, api: str
) -> None:
    # dict[str, int] cannot be strict (its keys are not known): as given, with strict false.
    server.enqueue(reply(api, Text('{"Paris": 2102650, "Lyon": 522250}')))
    result = make_driver(api=api).generate("Populations?", output_schema=dict[str, int])
    assert result.output == {"Paris": 2102650, "Lyon": 522250}
    loose = {"type": "object", "additionalProperties": {"type": "integer"}}
    (request,) = server.requests
    assert sent_format(request.json, api) == expected(api, "dict", loose, strict=False)


@pytest.mark.parametrize("api", APIS)
def test_no_schema_asks_for_no_format(server: WireServer, make_driver: Make, api: str) -> None:
    server.enqueue(reply(api, Text(PARIS)))
    make_driver(api=api).generate("Biggest city of France?")
    body = server.requests[0].json
    assert "response_format" not in body and "text" not in body


def test_responses_keeps_the_caller_s_text_options(server: WireServer, make_driver: Make) -> None:
    server.enqueue(reply("responses", Text(PARIS)))
    make_driver(api="responses").generate("City?", output_schema=City, text={"verbosity": "low"})
    format_ = expected("responses", "City", CITY_STRICT)["format"]
    assert server.requests[0].json["text"] == {"verbosity": "low", "format": format_}


@pytest.mark.parametrize("api", APIS)
def test_the_schema_goes_on_every_round_of_a_tool_loop(
    server: WireServer, make_driver: Make, api: str
) -> None:
    server.enqueue(
        reply(api, Call(name="lookup", arguments='{"city": "Paris"}')), reply(api, Text(PARIS))
    )
    result = make_driver(api=api).generate(
        "Biggest city of France?", tools=[Tool.from_function(lookup)], output_schema=City
    )
    assert result.output == City(name="Paris", population=2102650)
    assert len(server.requests) == 2
    for request in server.requests:
        assert sent_format(request.json, api) == expected(api, "City", CITY_STRICT)
        (tool,) = request.json["tools"]
        assert (tool["function"] if api == "chat" else tool)["name"] == "lookup"


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_an_invalid_answer_raises_output_error(
    server: WireServer, make_driver: Make, api: str
) -> None:
    server.enqueue(reply(api, Text('{"name": "Paris"}')))
    with pytest.raises(OutputError) as caught:
        make_driver(api=api).generate("Biggest city of France?", output_schema=City)
    assert caught.value.text == '{"name": "Paris"}'
    assert "population" in caught.value.reason


# -- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS)
def test_a_non_object_schema_is_refused_at_the_call(
    server: WireServer, make_driver: Make, api: str
) -> None:
    with pytest.raises(InvalidRequestError, match="object schema") as caught:
        make_driver(api=api).stream_generate("Cities?", output_schema=list[City])
    assert "openai driver" in str(caught.value)
    with pytest.raises(InvalidRequestError, match="object schema"):
        make_driver(api=api).stream_generate("A number?", output_schema={"type": "integer"})
    assert not server.requests


@pytest.mark.parametrize(
    ("api", "option"),
    [
        ("chat", {"response_format": {"type": "json_object"}}),
        ("chat", {"extra_body": {"response_format": {"type": "json_object"}}}),
        ("responses", {"text": {"format": {"type": "json_object"}}}),
    ],
)
def test_a_format_option_beside_a_schema_is_a_conflict(
    server: WireServer, make_driver: Make, api: str, option: dict[str, Any]
) -> None:
    # Set on the driver or passed with the call: refused at the call (check_request).
    with pytest.raises(InvalidRequestError, match="output_schema") as caught:
        make_driver(api=api, **option).stream_generate("City?", output_schema=City)
    assert "response_format" in str(caught.value)
    with pytest.raises(InvalidRequestError, match="output_schema"):
        make_driver(api=api).stream_generate("City?", output_schema=City, **option)
    assert not server.requests


# -- json_object mode (DeepSeek) ---------------------------------------------------------------


@pytest.fixture
def deepseek(server: WireServer) -> Iterator[Callable[..., OpenAIDriver]]:
    """The deepseek preset pointed at the server; closed at teardown."""

    def make(**config: Any) -> OpenAIDriver:
        driver = get_driver(
            "deepseek", api_key="sk-deepseek-structured", base_url=f"{server.url}/v1", **config
        )
        assert isinstance(driver, OpenAIDriver)
        return driver

    with closing_drivers(make) as made:
        yield made


def test_deepseek_gets_json_object_and_the_schema_in_the_system_prompt(
    server: WireServer, deepseek: Callable[..., OpenAIDriver]
) -> None:
    server.enqueue(reply("chat", Text(PARIS)), reply("chat", Text('{"title": "Dune"}')))
    driver = deepseek()
    assert driver.structured_output == "json_object"
    result = driver.generate("Biggest city?", system_prompt="Be brief.", output_schema=City)
    assert result.output == City(name="Paris", population=2102650)
    assert driver.generate("A book?", output_schema=BOOK).output == {"title": "Dune"}
    first, second = (r.json for r in server.requests)
    assert first["response_format"] == {"type": "json_object"}
    instruction = "Answer with a single JSON object that follows this JSON Schema:\n"
    # The schema as built, untransformed: the model reads it, nothing enforces it.
    city_schema = json.dumps(
        {
            "description": "A city and how many people live there.",
            "properties": {
                "name": {"title": "Name", "type": "string"},
                "population": {"title": "Population", "type": "integer"},
            },
            "required": ["name", "population"],
            "title": "City",
            "type": "object",
        }
    )
    assert first["messages"] == [
        {"role": "system", "content": f"Be brief.\n\n{instruction}{city_schema}"},
        {"role": "user", "content": "Biggest city?"},
    ]
    assert second["messages"][0] == {
        "role": "system",
        "content": instruction + json.dumps(BOOK, sort_keys=True),
    }


def test_structured_output_mode_is_checked(make_driver: Make) -> None:
    with pytest.raises(DriverConfigError, match="structured_output"):
        make_driver(structured_output="json")


def test_a_dataclass_built_without_pydantic() -> None:
    # Without pydantic the harness builds the schema from the dataclass itself (no titles, closed
    # already); it goes out the same way.
    spec = output_spec(City, use_pydantic=False)
    request = ProviderRequest(
        request_id="r",
        model="m",
        messages=(Message.user("City?"),),
        output_schema=spec.schema,
        output_name=spec.name,
    )
    schema = {
        "type": "object",
        "title": "City",
        "description": "A city and how many people live there.",
        "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["name", "population"],
        "additionalProperties": False,
    }
    chat = chat_arguments(request, accepted={"response_format"}, openai_endpoint=True)
    assert chat["response_format"] == expected("chat", "City", schema)
    responses = responses_arguments(request, accepted={"text"})
    assert responses["text"] == expected("responses", "City", schema)
