"""Tools the official MCP conformance suite's server scenarios call (names and results as
its scenarios describe them). They are ordinary demo tools of the mock: listed, scoped
(mcp:read) and served in every era like the others."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from mock_server.mcp.context import Call, InputRequired
from mock_server.mcp.media import PNG_BASE64, WAV_BASE64
from mock_server.mcp.protocol import INVALID_PARAMS, RpcError
from mock_server.mcp.registry import McpTool, text_result

_NO_ARGS: dict[str, Any] = {"type": "object", "properties": {}}
_NAME_SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def _elicit(message: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}}


def _sample(text: str, max_tokens: int) -> dict[str, Any]:
    return {
        "method": "sampling/createMessage",
        "params": {"messages": [{"role": "user", "content": {"type": "text", "text": text}}], "maxTokens": max_tokens},
    }


ROOTS_REQUEST: dict[str, Any] = {"method": "roots/list", "params": {}}


def _sampled_text(call: Call, key: str) -> str | None:
    answer = call.answer(key)
    if answer is None:
        return None
    content = answer.get("content")
    if isinstance(content, list):
        content = content[0] if content else {}
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        raise RpcError(INVALID_PARAMS, f"inputResponses[{key!r}] must be a CreateMessageResult with text content")
    text: str = content["text"]
    return text


def _roots(call: Call, key: str) -> list[dict[str, Any]] | None:
    answer = call.answer(key)
    if answer is None:
        return None
    roots = answer.get("roots")
    if not isinstance(roots, list):
        raise RpcError(INVALID_PARAMS, f"inputResponses[{key!r}] must be a ListRootsResult")
    return [r for r in roots if isinstance(r, dict)]


def _const(result: dict[str, Any]) -> Any:
    async def run(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
        return result

    return run


async def _logging(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    await call.log("info", "Tool execution started")
    await asyncio.sleep(0.05)
    await call.log("info", "Tool processing data")
    await asyncio.sleep(0.05)
    await call.log("info", "Tool execution completed")
    return text_result("Tool with logging executed successfully")


async def _progress(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    for step, done in enumerate((0, 50, 100)):
        if step:
            await asyncio.sleep(0.05)
        await call.progress(done, 100)
    return text_result("Tool with progress executed successfully")


async def _sampling(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    prompt = arguments.get("prompt")
    if not isinstance(prompt, str):
        raise RpcError(INVALID_PARAMS, "argument 'prompt' must be a string")
    text = _sampled_text(call, "sampling")
    if text is None:
        return InputRequired({"sampling": _sample(prompt, 100)})
    return text_result(f"LLM response: {text}")


async def _elicitation(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    message = arguments.get("message")
    if not isinstance(message, str):
        raise RpcError(INVALID_PARAMS, "argument 'message' must be a string")
    answer = call.elicited("elicitation")
    if answer is None:
        schema = {
            "type": "object",
            "properties": {
                "username": {"type": "string", "description": "User's response"},
                "email": {"type": "string", "description": "User's email address"},
            },
            "required": ["username", "email"],
        }
        return InputRequired({"elicitation": _elicit(message, schema)})
    return text_result(f"User response: <action: {answer['action']}, content: {json.dumps(answer['content'])}>")


def _elicit_schema_tool(key: str, message: str, schema: dict[str, Any]) -> Any:
    async def run(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
        answer = call.elicited(key)
        if answer is None:
            return InputRequired({key: _elicit(message, schema)})
        return text_result(f"Elicitation completed: action={answer['action']}, content={json.dumps(answer['content'])}")

    return run


SEP1034_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
}
SEP1330_SCHEMA = {
    "type": "object",
    "properties": {
        "untitledSingle": {"type": "string", "description": "Untitled single-select", "enum": ["option1", "option2", "option3"]},
        "titledSingle": {
            "type": "string",
            "description": "Titled single-select",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        "legacyEnum": {
            "type": "string",
            "description": "Legacy titled enum",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {
            "type": "array",
            "description": "Untitled multi-select",
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        "titledMulti": {
            "type": "array",
            "description": "Titled multi-select",
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
}

JSON_SCHEMA_2020_12 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "$anchor": "addressDef",
            "type": "object",
            "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
}


async def _json_schema_tool(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    return text_result("Received: " + json.dumps(arguments, sort_keys=True))


async def _missing_capability(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    # Only reached when the client declared sampling (checked before the handler runs).
    return text_result("sampling is declared")


async def _streaming_elicitation(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    await call.progress(0, 1, "asking for your name")
    answer = call.elicited("user_name")
    if answer is None:
        return InputRequired({"user_name": _elicit("What is your name?", _NAME_SCHEMA)})
    return text_result(f"Hello, {answer['content'].get('name', 'stranger')}!")


async def _logging_tool(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    await call.log("info", "test_logging_tool ran")
    return text_result("logged (only when the request asked for a log level)")


async def _trigger_tools(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    await call.hub.publish("toolsListChanged", "notifications/tools/list_changed")
    return text_result("tools/list_changed sent to listeners")


async def _trigger_prompts(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    await call.hub.publish("promptsListChanged", "notifications/prompts/list_changed")
    return text_result("prompts/list_changed sent to listeners")


async def _reconnection(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    await asyncio.sleep(0.1)
    return text_result("Reconnection test completed")


# -- SEP-2322 input_required fixtures --------------------------------------------------------------


async def _mrtr_elicitation(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    call.load_state()
    answer = call.elicited("user_name")
    if answer is None:
        return InputRequired({"user_name": _elicit("What is your name?", _NAME_SCHEMA)})
    return text_result(f"Hello, {answer['content'].get('name', 'stranger')}!")


async def _mrtr_sampling(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    call.load_state()
    text = _sampled_text(call, "capital_question")
    if text is None:
        return InputRequired({"capital_question": _sample("What is the capital of France?", 100)})
    return text_result(f"The model answered: {text}")


async def _mrtr_roots(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    call.load_state()
    roots = _roots(call, "client_roots")
    if roots is None:
        return InputRequired({"client_roots": ROOTS_REQUEST})
    return text_result("Roots: " + ", ".join(str(r.get("uri")) for r in roots))


def _stateful(tool: str) -> Any:
    """Round 1 issues a signed requestState; round 2 needs it back intact ("state-ok")."""

    async def run(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
        state = call.load_state()
        answer = call.elicited("confirm")
        if state is None or answer is None:
            request = _elicit(
                "Please confirm",
                {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]},
            )
            return InputRequired({"confirm": request}, state=call.dump_state({"tool": tool, "round": 1}))
        if state.get("tool") != tool:
            raise RpcError(INVALID_PARAMS, "requestState was issued for another request")
        return text_result(f"state-ok: confirmed={answer['content'].get('ok')}")

    return run


async def _mrtr_multiple(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    state = call.load_state()
    requests = {
        "user_name": _elicit("What is your name?", _NAME_SCHEMA),
        "greeting": _sample("Generate a greeting", 50),
        "client_roots": ROOTS_REQUEST,
    }
    name, greeting, roots = call.elicited("user_name"), _sampled_text(call, "greeting"), _roots(call, "client_roots")
    if state is None or name is None or greeting is None or roots is None:
        missing = {k: v for k, v in requests.items() if call.input_responses is None or k not in call.input_responses}
        return InputRequired(missing or requests, state=call.dump_state({"tool": "multiple"}))
    return text_result(f"{greeting} {name['content'].get('name')} ({len(roots)} roots)")


async def _mrtr_multi_round(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    state = call.load_state() or {"tool": "multi_round", "round": 0}
    if state.get("tool") != "multi_round":
        raise RpcError(INVALID_PARAMS, "requestState was issued for another request")
    step1 = {"step1": _elicit("Step 1: What is your name?", _NAME_SCHEMA)}
    color_schema = {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]}
    step2 = {"step2": _elicit("Step 2: What is your favorite color?", color_schema)}
    if state["round"] == 0:
        return InputRequired(step1, state=call.dump_state({"tool": "multi_round", "round": 1}))
    if state["round"] == 1:
        name = call.elicited("step1")
        if name is None:
            return InputRequired(step1, state=call.dump_state(state))
        return InputRequired(
            step2, state=call.dump_state({"tool": "multi_round", "round": 2, "name": name["content"].get("name")})
        )
    color = call.elicited("step2")
    if color is None:
        return InputRequired(step2, state=call.dump_state(state))
    return text_result(f"{state.get('name')} likes {color['content'].get('color')}")


async def _mrtr_capabilities(call: Call, arguments: dict[str, Any]) -> dict[str, Any] | InputRequired:
    call.load_state()
    wanted: dict[str, dict[str, Any]] = {}
    if call.has_capability("elicitation") and call.answer("user_name") is None:
        wanted["user_name"] = _elicit("What is your name?", _NAME_SCHEMA)
    if call.has_capability("sampling") and call.answer("greeting") is None:
        wanted["greeting"] = _sample("Generate a greeting", 50)
    if call.has_capability("roots") and call.answer("client_roots") is None:
        wanted["client_roots"] = ROOTS_REQUEST
    if wanted:
        return InputRequired(wanted, state=call.dump_state({"tool": "capabilities"}))
    return text_result("Done: asked only for what your declared capabilities allow")


_ELICIT_CAP: dict[str, Any] = {"elicitation": {}}
_SAMPLING_CAP: dict[str, Any] = {"sampling": {}}
_ROOTS_CAP: dict[str, Any] = {"roots": {}}

TOOLS: list[McpTool] = [
    McpTool("test_simple_text", "Returns simple text.", _NO_ARGS,
            _const(text_result("This is a simple text response for testing."))),
    McpTool("test_image_content", "Returns an image.", _NO_ARGS,
            _const({"content": [{"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}]})),
    McpTool("test_audio_content", "Returns audio.", _NO_ARGS,
            _const({"content": [{"type": "audio", "data": WAV_BASE64, "mimeType": "audio/wav"}]})),
    McpTool("test_embedded_resource", "Returns an embedded resource.", _NO_ARGS, _const({"content": [
        {"type": "resource", "resource": {"uri": "test://embedded-resource", "mimeType": "text/plain",
                                          "text": "This is an embedded resource content."}}]})),
    McpTool("test_multiple_content_types", "Returns text, an image and a resource.", _NO_ARGS, _const({"content": [
        {"type": "text", "text": "Multiple content types test:"},
        {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"},
        {"type": "resource", "resource": {"uri": "test://mixed-content-resource", "mimeType": "application/json",
                                          "text": json.dumps({"test": "data", "value": 123})}}]})),
    McpTool("test_tool_with_logging", "Logs three messages while it runs.", _NO_ARGS, _logging, streams=True),
    McpTool("test_error_handling", "Always fails (isError).", _NO_ARGS,
            _const(text_result("This tool intentionally returns an error for testing", is_error=True))),
    McpTool("test_tool_with_progress", "Reports progress 0, 50, 100 of 100.", _NO_ARGS, _progress, streams=True),
    McpTool("test_sampling", "Asks the client's model to answer a prompt.",
            {"type": "object", "properties": {"prompt": {"type": "string"}}, "required": ["prompt"]},
            _sampling, streams=True, requires=_SAMPLING_CAP),
    McpTool("test_elicitation", "Asks the user for a username and an email.",
            {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
            _elicitation, streams=True, requires=_ELICIT_CAP),
    McpTool("test_elicitation_sep1034_defaults", "Elicits with a default for every primitive type (SEP-1034).",
            _NO_ARGS, _elicit_schema_tool("defaults", "Please review and update the form fields with defaults",
                                          SEP1034_SCHEMA), streams=True, requires=_ELICIT_CAP),
    McpTool("test_elicitation_sep1330_enums", "Elicits with every enum variant (SEP-1330).", _NO_ARGS,
            _elicit_schema_tool("enums", "Please select options from the enum fields", SEP1330_SCHEMA),
            streams=True, requires=_ELICIT_CAP),
    McpTool("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features", JSON_SCHEMA_2020_12, _json_schema_tool),
    McpTool("test_reconnection", "Closes its SSE stream before answering, to test resumption (SEP-1699).",
            _NO_ARGS, _reconnection, streams=True, legacy_only=True),
    McpTool("test_missing_capability", "Needs the sampling capability (-32021 without it).", _NO_ARGS,
            _missing_capability, requires=_SAMPLING_CAP, modern_only=True),
    McpTool("test_streaming_elicitation", "Streams a notification, then asks for your name (input_required).",
            _NO_ARGS, _streaming_elicitation, streams=True, requires=_ELICIT_CAP, modern_only=True),
    McpTool("test_logging_tool", "Logs only when the request set a log level.", _NO_ARGS, _logging_tool,
            streams=True, modern_only=True),
    McpTool("test_trigger_tool_change", "Sends notifications/tools/list_changed to listeners.", _NO_ARGS,
            _trigger_tools, modern_only=True),
    McpTool("test_trigger_prompt_change", "Sends notifications/prompts/list_changed to listeners.", _NO_ARGS,
            _trigger_prompts, modern_only=True),
    McpTool("test_input_required_result_elicitation", "Asks for your name (input_required).", _NO_ARGS,
            _mrtr_elicitation, streams=True, requires=_ELICIT_CAP),
    McpTool("test_input_required_result_sampling", "Asks the model a question (input_required).", _NO_ARGS,
            _mrtr_sampling, streams=True, requires=_SAMPLING_CAP),
    McpTool("test_input_required_result_list_roots", "Asks for the client's roots (input_required).", _NO_ARGS,
            _mrtr_roots, streams=True, requires=_ROOTS_CAP),
    McpTool("test_input_required_result_request_state", "Round-trips a signed requestState.", _NO_ARGS,
            _stateful("request_state"), streams=True, requires=_ELICIT_CAP),
    McpTool("test_input_required_result_tampered_state", "Refuses an altered requestState.", _NO_ARGS,
            _stateful("tampered_state"), streams=True, requires=_ELICIT_CAP),
    McpTool("test_input_required_result_multiple_inputs", "Asks for three inputs at once.", _NO_ARGS,
            _mrtr_multiple, streams=True, requires={**_ELICIT_CAP, **_SAMPLING_CAP, **_ROOTS_CAP}),
    McpTool("test_input_required_result_multi_round", "Asks in two rounds, the state evolving.", _NO_ARGS,
            _mrtr_multi_round, streams=True, requires=_ELICIT_CAP),
    McpTool("test_input_required_result_capabilities", "Asks only for what the client declared.", _NO_ARGS,
            _mrtr_capabilities, streams=True),
]
