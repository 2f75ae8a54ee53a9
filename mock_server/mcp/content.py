"""Resources, resource templates, prompts and completions of the mock (the conformance
suite's fixtures: test:// resources and test_* prompts)."""

from __future__ import annotations

import json
import re
from typing import Any

from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.media import PNG_BASE64
from mock_server.mcp.protocol import INVALID_PARAMS, RpcError

RESOURCES: list[dict[str, Any]] = [
    {"uri": "test://static-text", "name": "static-text", "description": "A static text resource",
     "mimeType": "text/plain"},
    {"uri": "test://static-binary", "name": "static-binary", "description": "A static binary resource (PNG)",
     "mimeType": "image/png"},
    {"uri": "test://watched-resource", "name": "watched-resource",
     "description": "A resource clients can subscribe to", "mimeType": "text/plain"},
]
TEMPLATES: list[dict[str, Any]] = [
    {"uriTemplate": "test://template/{id}/data", "name": "template-data",
     "description": "Data for one id", "mimeType": "application/json"},
]
_TEMPLATE = re.compile(r"^test://template/([A-Za-z0-9_-]{1,64})/data$")
_TEXTS = {
    "test://static-text": "This is the content of the static text resource.",
    "test://watched-resource": "The watched resource.",
}


def read_resource(uri: str) -> dict[str, Any]:
    if uri in _TEXTS:
        return {"contents": [{"uri": uri, "mimeType": "text/plain", "text": _TEXTS[uri]}]}
    if uri == "test://static-binary":
        return {"contents": [{"uri": uri, "mimeType": "image/png", "blob": PNG_BASE64}]}
    match = _TEMPLATE.match(uri)
    if match:
        ident = match.group(1)
        text = json.dumps({"id": ident, "templateTest": True, "data": f"Data for ID: {ident}"})
        return {"contents": [{"uri": uri, "mimeType": "application/json", "text": text}]}
    # SEP-2164: an unknown resource is -32602 with the uri in data, never an empty list.
    raise RpcError(INVALID_PARAMS, "Resource not found", data={"uri": uri})


def known_resource(uri: str) -> bool:
    return uri in _TEXTS or uri == "test://static-binary" or bool(_TEMPLATE.match(uri))


PROMPTS: list[dict[str, Any]] = [
    {"name": "test_simple_prompt", "description": "A prompt without arguments"},
    {"name": "test_prompt_with_arguments", "description": "A prompt with two required arguments",
     "arguments": [{"name": "arg1", "description": "First test argument", "required": True},
                   {"name": "arg2", "description": "Second test argument", "required": True}]},
    {"name": "test_prompt_with_embedded_resource", "description": "A prompt embedding a resource",
     "arguments": [{"name": "resourceUri", "description": "URI of the resource to embed", "required": True}]},
    {"name": "test_prompt_with_image", "description": "A prompt with an image"},
    {"name": "test_input_required_result_prompt", "description": "A prompt that first asks for context"},
]


def _user(content: dict[str, Any]) -> dict[str, Any]:
    return {"role": "user", "content": content}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _string_args(arguments: Any, *names: str) -> list[str]:
    if not isinstance(arguments, dict):
        arguments = {}
    values = [arguments.get(name) for name in names]
    if not all(isinstance(v, str) for v in values):
        raise RpcError(INVALID_PARAMS, f"prompt arguments {', '.join(names)} are required strings")
    return [str(v) for v in values]


async def get_prompt(call: Call, name: str, arguments: Any) -> dict[str, Any] | InputRequired:
    if name == "test_simple_prompt":
        return {"messages": [_user(_text("This is a simple prompt for testing."))]}
    if name == "test_prompt_with_arguments":
        arg1, arg2 = _string_args(arguments, "arg1", "arg2")
        return {"messages": [_user(_text(f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"))]}
    if name == "test_prompt_with_embedded_resource":
        (uri,) = _string_args(arguments, "resourceUri")
        resource = {"uri": uri, "mimeType": "text/plain", "text": "Embedded resource content for testing."}
        return {"messages": [_user({"type": "resource", "resource": resource}),
                             _user(_text("Please process the embedded resource above."))]}
    if name == "test_prompt_with_image":
        return {"messages": [_user({"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}),
                             _user(_text("Please analyze the image above."))]}
    if name == "test_input_required_result_prompt":
        call.load_state()
        answer = call.elicited("user_context")
        if answer is None:
            schema = {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
            return InputRequired({"user_context": {"method": "elicitation/create", "params": {
                "message": "What context should the prompt use?", "requestedSchema": schema}}})
        return {"messages": [_user(_text(f"Use this context: {answer['content'].get('context', '')}"))]}
    raise RpcError(INVALID_PARAMS, f"Unknown prompt: {name}", data={"name": name})


_COMPLETIONS = {
    "arg1": ["paris", "park", "party", "test", "testing"],
    "arg2": ["world", "word", "work"],
    "id": ["123", "124", "200"],
    "resourceUri": ["test://static-text", "test://static-binary"],
}


def complete(params: dict[str, Any]) -> dict[str, Any]:
    ref, argument = params.get("ref"), params.get("argument")
    if not isinstance(ref, dict) or not isinstance(argument, dict) or not isinstance(argument.get("value"), str):
        raise RpcError(INVALID_PARAMS, "completion/complete needs ref and argument {name, value}")
    if ref.get("type") == "ref/prompt" and ref.get("name") not in {p["name"] for p in PROMPTS}:
        raise RpcError(INVALID_PARAMS, "Unknown prompt")
    prefix = argument["value"]
    values = [v for v in _COMPLETIONS.get(str(argument.get("name")), []) if v.startswith(prefix)]
    return {"completion": {"values": values, "total": len(values), "hasMore": False}}
