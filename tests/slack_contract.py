"""Offline contract checks for Slack Web API calls and Block Kit payloads.

Both checks read the spec files shipped in ``tests/slack/`` (source and licence in its README):
``slack_web_openapi_v2.json`` (method and argument names) and ``block-kit.schema.json``
(Block Kit JSON Schema, draft 2020-12). Every function returns a list of readable problems,
each starting with the method name or the JSON path it is about; an empty list means valid.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS_DIR = Path(__file__).resolve().parent / "slack"
_SPEC_URI = "urn:slack:web-api"
_ID_PATTERN = re.compile(r"\^\[?[A-Z]")
WEB_API_SPEC = "slack_web_openapi_v2.json"
BLOCK_KIT_SCHEMA = "block-kit.schema.json"

MAX_MESSAGE_BLOCKS = 50
# Accepted on every method: the token may travel as an argument, and Bolt's per-request
# WebClient adds team_id to every call (the spec lists neither everywhere).
ALWAYS_ALLOWED = frozenset({"token", "team_id"})
# Gaps in the 2020 OpenAPI spec: arguments (or whole methods) Slack accepts that it lacks.
SPEC_GAPS: dict[str, frozenset[str]] = {
    # Message metadata arrived in 2022, after the spec was generated.
    "chat.postMessage": frozenset({"metadata"}),
    "chat.update": frozenset({"metadata"}),
    # Socket Mode (2021) is absent from the spec; the app calls it with its xapp- token.
    "apps.connections.open": frozenset(),
    # The external upload flow (2024) that slack_sdk's files_upload_v2 uses replaced
    # files.upload; the spec predates it. Only these two methods and their documented
    # arguments are allowed (docs.slack.dev/reference/methods/files.getUploadURLExternal and
    # files.completeUploadExternal).
    "files.getUploadURLExternal": frozenset({"filename", "length", "alt_txt", "snippet_type"}),
    "files.completeUploadExternal": frozenset(
        {"files", "channel_id", "channels", "initial_comment", "thread_ts"}
    ),
    # Token rotation (2021): a refresh is `grant_type=refresh_token` with the refresh token
    # (docs.slack.dev/authentication/using-token-rotation).
    "oauth.v2.access": frozenset({"grant_type", "refresh_token"}),
}
# Arguments the spec requires that Slack no longer always does: a refresh sends no `code`.
NO_LONGER_REQUIRED: dict[str, frozenset[str]] = {"oauth.v2.access": frozenset({"code"})}
_VIEW_DEFS = {"modal": "modal_view", "home": "home_view"}
_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update", "chat.scheduleMessage")
RESPONSE_URL = "response_url"
_MAX_MESSAGE_CHARS = 200


def _load_json(name: str) -> Any:
    return json.loads((SPECS_DIR / name).read_text(encoding="utf-8"))


@cache
def web_api_methods() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Map each method in the OpenAPI spec to (argument names, required argument names)."""
    methods: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for path, operations in _load_json(WEB_API_SPEC)["paths"].items():
        params = [p for op in operations.values() for p in op.get("parameters", [])]
        names = frozenset(p["name"] for p in params)
        required = frozenset(p["name"] for p in params if p.get("required")) - ALWAYS_ALLOWED
        required -= NO_LONGER_REQUIRED.get(path.removeprefix("/"), frozenset())
        methods[path.removeprefix("/")] = (names, required)
    return methods


def check_call(method: str, args: dict[str, Any]) -> list[str]:
    """Problems with a Web API call: unknown method, unknown or missing argument names."""
    spec = web_api_methods().get(method)
    gaps = SPEC_GAPS.get(method)
    if spec is None and gaps is None:
        return [f"{method}: unknown Web API method (not in {WEB_API_SPEC})"]
    names, required = spec or (frozenset(), frozenset())
    allowed = names | (gaps or frozenset()) | ALWAYS_ALLOWED
    problems = [
        f"{method}: unknown argument {name!r} (allowed: {', '.join(sorted(allowed))})"
        for name in sorted(args)
        if name not in allowed
    ]
    problems += [
        f"{method}: missing required argument {name!r}" for name in sorted(required - set(args))
    ]
    return problems


@cache
def _answer_validator(method: str) -> Draft4Validator | None:
    """Validator for a successful answer of `method` (the spec's 200 response schema), if any.

    The 2020 spec is Swagger 2.0: its schemas are JSON Schema draft 4, referring to
    ``#/definitions/...`` in the spec itself."""
    spec = _load_json(WEB_API_SPEC)
    operations = spec["paths"].get(f"/{method}", {})
    for verb, operation in operations.items():
        if "schema" in operation.get("responses", {}).get("200", {}):
            pointer = f"#/paths/~1{method}/{verb}/responses/200/schema"
            registry: Registry = Registry().with_resource(_SPEC_URI, DRAFT4.create_resource(spec))
            return Draft4Validator({"$ref": _SPEC_URI + pointer}, registry=registry)
    return None


# Errors in the 2020 spec's response schemas: (method, JSON path) that Slack answers otherwise.
ANSWER_GAPS = frozenset(
    {
        # Typed as an object; Slack answers the message's blocks, an array, as everywhere else.
        ("chat.update", "$.message.blocks"),
    }
)


def _is_id_pattern(error: ValidationError) -> bool:
    """A Slack id's form (``^[TE][A-Z0-9]{8,}$``...): the test workspace's ids are short."""
    return error.validator == "pattern" and _ID_PATTERN.match(error.validator_value) is not None


def answer_problems(method: str, answer: dict[str, Any]) -> list[str]:
    """Problems with a successful Web API answer, against the spec's response schema (the form
    of ids aside: the stand-in's workspace uses readable ones such as T0001 and BBOT)."""
    validator = _answer_validator(method)
    if validator is None:
        return []
    problems = _schema_problems(
        validator,
        answer,
        ignore=lambda e: _is_id_pattern(e) or (method, e.json_path) in ANSWER_GAPS,
    )
    return [f"{method}: answer {p}" for p in problems]


@cache
def _validator(fragment: str) -> Draft202012Validator:
    """Validator for the Block Kit schema, or for one of its ``#/$defs/...`` fragments."""
    schema = _load_json(BLOCK_KIT_SCHEMA)
    registry: Registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator({"$ref": schema["$id"] + fragment}, registry=registry)


def _is_type_mismatch(error: ValidationError) -> bool:
    return error.validator in ("const", "enum") and list(error.relative_path) == ["type"]


def _branches(error: ValidationError) -> list[list[ValidationError]]:
    """Sub-errors of a ``oneOf``/``anyOf`` error, grouped by the branch they came from."""
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context or []:
        branches[sub.relative_schema_path[0]].append(sub)
    return list(branches.values())


def _explain(error: ValidationError) -> list[ValidationError]:
    """Descend into the ``oneOf``/``anyOf`` branch whose ``type`` matches the instance."""
    if error.validator not in ("oneOf", "anyOf"):
        return [error]
    branches = _branches(error)
    matching = [subs for subs in branches if not any(map(_is_type_mismatch, subs))]
    if not matching or len(matching) == len(branches):
        return [error]
    return [leaf for sub in min(matching, key=len) for leaf in _explain(sub)]


def _describe(error: ValidationError) -> str:
    instance, limit = error.instance, error.validator_value
    if error.validator in ("oneOf", "anyOf"):
        branches = _branches(error)
        if isinstance(instance, dict) and "type" not in instance:
            message = "'type' is a required property"
        elif branches and all(any(map(_is_type_mismatch, subs)) for subs in branches):
            message = f"unknown or misplaced type {instance['type']!r}"
        else:
            description = (
                error.schema.get("description") if isinstance(error.schema, dict) else None
            )
            message = "matches none of the allowed forms" + (
                f" ({description})" if description else ""
            )
    elif error.validator == "maxLength":
        message = f"{len(instance)} characters, at most {limit} allowed"
    elif error.validator == "maxItems":
        message = f"{len(instance)} items, at most {limit} allowed"
    else:
        message = error.message
    if len(message) > _MAX_MESSAGE_CHARS:
        message = message[: _MAX_MESSAGE_CHARS - 3] + "..."
    return f"{error.json_path}: {message}"


def _schema_problems(
    validator: Draft4Validator | Draft202012Validator,
    instance: Any,
    *,
    ignore: Callable[[ValidationError], bool] = lambda _error: False,
) -> list[str]:
    problems: list[str] = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path))):
        for leaf in _explain(error):
            if ignore(leaf):
                continue
            problem = _describe(leaf)
            if problem not in problems:
                problems.append(problem)
    return problems


def _find_key(node: Any, key: str, path: str) -> Iterator[tuple[str, Any]]:
    """Yield (JSON path, value) of every ``key`` nested anywhere in ``node``."""
    if isinstance(node, dict):
        for name, value in node.items():
            if name == key:
                yield f"{path}.{name}", value
            yield from _find_key(value, key, f"{path}.{name}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _find_key(value, key, f"{path}[{index}]")


def _duplicate_ids(blocks: Any, path: str) -> list[str]:
    """block_id must be unique in the payload; action_id unique within its block (Slack's rules)."""
    if not isinstance(blocks, list):
        return []
    problems: list[str] = []
    seen_blocks: dict[Any, str] = {}
    for id_path, block_id in _find_key(blocks, "block_id", path):
        if block_id in seen_blocks:
            problems.append(
                f"{id_path}: duplicate block_id {block_id!r} (also at {seen_blocks[block_id]})"
            )
        seen_blocks.setdefault(block_id, id_path)
    for index, block in enumerate(blocks):
        seen_actions: dict[Any, str] = {}
        for id_path, action_id in _find_key(block, "action_id", f"{path}[{index}]"):
            if action_id in seen_actions:
                problems.append(
                    f"{id_path}: duplicate action_id {action_id!r} in one block "
                    f"(also at {seen_actions[action_id]})"
                )
            seen_actions.setdefault(action_id, id_path)
    return problems


def validate_message_blocks(blocks: Any) -> list[str]:
    """Problems with a message's ``blocks`` array (schema, at most 50 blocks, unique ids)."""
    problems = _schema_problems(_validator(""), blocks)
    if isinstance(blocks, list) and len(blocks) > MAX_MESSAGE_BLOCKS:
        problems.append(f"$: {len(blocks)} blocks, a message allows at most {MAX_MESSAGE_BLOCKS}")
    return problems + _duplicate_ids(blocks, "$")


def validate_view(view: Any) -> list[str]:
    """Problems with a modal or Home tab view (schema incl. at most 100 blocks, unique ids)."""
    view_type = view.get("type") if isinstance(view, dict) else None
    if view_type not in _VIEW_DEFS:
        return [f"$.type: view type must be 'modal' or 'home', got {view_type!r}"]
    problems = _schema_problems(_validator(f"#/$defs/{_VIEW_DEFS[view_type]}"), view)
    return problems + _duplicate_ids(view.get("blocks"), "$.blocks")


def call_problems(
    method: str, args: dict[str, Any], answer: dict[str, Any] | None = None
) -> list[str]:
    """Everything wrong with one call to the Slack stand-in: the method and argument names
    (not for a ``response_url`` POST), message blocks and views, and the stand-in's own
    ``answer`` against the spec's response schema. For ``SlackStandIn(contract=)``."""
    problems = [] if method == RESPONSE_URL else check_call(method, args)
    if answer is not None:
        problems += answer_problems(method, answer)
    if "blocks" in args and (method in _MESSAGE_METHODS or method == RESPONSE_URL):
        problems += [f"{method}: blocks {p}" for p in validate_message_blocks(args["blocks"])]
    if "view" in args and method.startswith("views."):
        problems += [f"{method}: view {p}" for p in validate_view(args["view"])]
    return problems


def _raise_if(problems: list[str], what: str) -> None:
    if problems:
        raise AssertionError(f"invalid Block Kit {what}:\n  " + "\n  ".join(problems))


def assert_valid_blocks(blocks: Any) -> None:
    """Raise AssertionError listing every problem with a message's ``blocks``."""
    _raise_if(validate_message_blocks(blocks), "message blocks")


def assert_valid_view(view: Any) -> None:
    """Raise AssertionError listing every problem with a modal or Home tab view."""
    _raise_if(validate_view(view), "view")
