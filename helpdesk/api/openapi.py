"""The OpenAPI 3 document, generated from the marshmallow schemas the endpoints use.

Operations are listed here as data; links between them (a created ticket's reference
feeds the next calls) let a client or a fuzzer follow a ticket through its life.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from helpdesk.api import schemas

# A schema another nests is named before it, so that the other refers to it.
_SCHEMAS = ("TicketCreate", "TicketEventRequest", "MessageCreate", "MessageForm", "AttachmentOut",
            "TicketOut", "TicketPage", "MessageOut", "ServiceOut", "GroupOut", "ClockLineOut",
            "ClockOut", "MeOut", "IntakeOut", "Problem")

_STRING = {"schema": {"type": "string"}}
_ETAG = {"ETag": {**_STRING, "description": "The ticket's version; send it back as If-Match."}}
# On every answer to a counted request (not a 401): what the token has left of its limit.
_RATE = {"RateLimit-Policy": {**_STRING, "example": '"per-token";q=600;w=60', "description":
                              "The token's limit: q requests in any w seconds."},
         "RateLimit": {**_STRING, "example": '"per-token";r=599;t=60', "description":
                       "Requests the token may still make now (r), and the seconds until "
                       "its oldest counted request leaves the window (t)."}}
_REFERENCE = {"name": "reference", "in": "path", "required": True,
              "schema": {"type": "string", "maxLength": 32}, "example": "HD-2026-000001"}
_IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
             "description": "The ETag you have; a stale one gets 412 and changes nothing."}
_PREFER = {"name": "Prefer", "in": "header", "required": False,
           "schema": {"type": "string"}, "example": "respond-async",
           "description": "respond-async (RFC 7240; other preferences are ignored): the "
                          "request is checked and accepted at once (202), and the ticket is "
                          "created moments later, with its clocks counting from the acceptance. "
                          "Follow Location to learn its reference."}
_INTAKE_ID = {"name": "intake_id", "in": "path", "required": True,
              "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
_TICKET_LINKS = {"GetTicket": "ticket_get", "TicketMessages": "messages_list",
                 "WriteMessage": "message_create", "FireEvent": "ticket_event",
                 "TicketSla": "ticket_sla"}

_PROBLEM_TEXT = {
    400: "The query or body cannot be read (see errors).",
    401: "No token, or a revoked or expired one.",
    403: "The token's scope or your role does not allow this.",
    404: "No such object, or you may not see it.",
    409: "The workflow refuses this now (see allowed_events).",
    412: "If-Match names an older version of the ticket.",
    413: "A file or the request is too large.",
    415: "The body's media type, or a file's name's ending, is not taken.",
    416: "The Range asked for lies beyond the file.",
    422: "Fields fail validation (see errors).",
    429: "Too many requests with this token; see Retry-After.",
    503: "On SQLite: other changes held the database for 5 s. Nothing was saved; send the "
         "same request again after Retry-After.",
}
_PROBLEM_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": _STRING}, 403: {"WWW-Authenticate": _STRING},
    429: {"Retry-After": _STRING}, 412: _ETAG, 503: {"Retry-After": _STRING}}


def _problems(*codes: int) -> dict[str, Any]:
    # 400 everywhere: a query parameter where none is read is refused (api.blueprint).
    return {str(code): _problem(code) for code in sorted({*codes, 400, 401, 429})}


def _problem(code: int) -> dict[str, Any]:
    problem: dict[str, Any] = {"description": _PROBLEM_TEXT[code],
                               "content": {"application/problem+json": {"schema": "Problem"}}}
    headers = {**_PROBLEM_HEADERS.get(code, {}), **({} if code == 401 else _RATE)}
    if headers:
        problem["headers"] = headers
    return problem


def _ok(schema: str | dict[str, Any], description: str, *, etag: bool = False,
        links: bool = False, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": schema}}}
    response["headers"] = {**(_ETAG if etag else {}), **(headers or {}), **_RATE}
    if links:
        response["links"] = {name: {"operationId": op,
                                    "parameters": {"reference": "$response.body#/reference"}}
                             for name, op in _TICKET_LINKS.items()}
    return response


def _download(description: str) -> dict[str, Any]:
    return {"description": description,
            "headers": {"Content-Disposition": {**_STRING, "description": "attachment, with the "
                                                "file's name (filename*= when not ASCII)."},
                        **_RATE},
            "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                "format": "binary"}}}}


def _accepted() -> dict[str, Any]:
    response = _ok("IntakeOut", "Accepted (Prefer: respond-async): the ticket is created shortly.",
                   headers={"Location": _STRING, "Preference-Applied": _STRING,
                            "Retry-After": _STRING})
    response["links"] = {"GetIntake": {"operationId": "intake_get",
                                       "parameters": {"intake_id": "$response.body#/id"}}}
    return response


def _json_body(schema: str, example: dict[str, Any] | None = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example:
        media["example"] = example
    return {"required": True, "content": {"application/json": media}}


def _operations() -> dict[str, dict[str, Any]]:
    ticket_params = [_REFERENCE]
    return {
        "/tickets": {
            "get": {"operationId": "tickets_list", "summary": "List the tickets you may see",
                    "description": "Filtered, sorted, a page at a time: pass next_cursor as cursor.",
                    "parameters": [{"in": "query", "schema": schemas.TicketListQuery}],
                    "responses": {"200": _ok("TicketPage", "A page of tickets."),
                                  **_problems(400, 403)}},
            "post": {"operationId": "ticket_create", "summary": "Open a ticket",
                     "requestBody": _json_body("TicketCreate", {
                         "service": "epost", "subject": "Outlook startar inte",
                         "description": "Inget händer.", "impact": 2, "urgency": 2}),
                     "parameters": [_PREFER],
                     "responses": {"201": _ok("TicketOut", "The new ticket.", etag=True, links=True,
                                              headers={"Location": _STRING}),
                                   "202": _accepted(),
                                   **_problems(400, 403, 413, 415, 422, 503)}},
        },
        "/ticket-intake/{intake_id}": {
            "get": {"operationId": "intake_get", "summary": "A ticket request accepted for later",
                    "description": "pending until the ticket is created (then its reference), or "
                                   "rejected with the reason. Yours only; kept for 7 days.",
                    "parameters": [_INTAKE_ID],
                    "responses": {"200": _ok("IntakeOut", "The request and what became of it.",
                                             headers={"Retry-After": _STRING}),
                                  **_problems(404)}},
        },
        "/tickets/{reference}": {
            "get": {"operationId": "ticket_get", "summary": "One ticket",
                    "parameters": ticket_params,
                    "responses": {"200": _ok("TicketOut", "The ticket.", etag=True, links=True),
                                  **_problems(404)}},
        },
        "/tickets/{reference}/events": {
            "post": {"operationId": "ticket_event", "summary": "Fire a workflow event",
                     "description": "Runs the same operation as the button in the UI. Agents: "
                                    + ", ".join(schemas.AGENT_EVENTS) + ". Requesters: "
                                    + ", ".join(schemas.REQUESTER_EVENTS) + ".",
                     "parameters": [*ticket_params, _IF_MATCH],
                     "requestBody": _json_body("TicketEventRequest", {"event": "take"}),
                     "responses": {"200": _ok("TicketOut", "The ticket after the event.",
                                              etag=True, links=True),
                                   **_problems(400, 403, 404, 409, 412, 413, 415, 422, 503)}},
        },
        "/tickets/{reference}/messages": {
            "get": {"operationId": "messages_list", "summary": "The ticket's messages",
                    "description": "Requesters see public replies only.",
                    "parameters": ticket_params,
                    "responses": {"200": _ok({"type": "array", "items": "MessageOut"},
                                             "Oldest first.", etag=True),
                                  **_problems(404)}},
            "post": {"operationId": "message_create",
                     "summary": "Write a public reply or an internal note, with files",
                     "parameters": [*ticket_params, _IF_MATCH],
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": "MessageCreate"},
                         "multipart/form-data": {"schema": "MessageForm"}}},
                     "responses": {"201": _ok("MessageOut", "The message.", etag=True),
                                   **_problems(400, 403, 404, 409, 412, 413, 415, 422, 503)}},
        },
        "/tickets/{reference}/attachments/{attachment_id}": {
            "get": {"operationId": "attachment_get", "summary": "Download an attachment",
                    "parameters": [*ticket_params, {
                        "name": "attachment_id", "in": "path", "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}],
                    "responses": {"200": _download("The file, as a download."),
                                  "206": _download("The part asked for with Range."),
                                  "304": {"description": "Unchanged since If-None-Match or "
                                                         "If-Modified-Since said.",
                                          "headers": _RATE},
                                  **_problems(404, 416)}},
        },
        "/tickets/{reference}/sla": {
            "get": {"operationId": "ticket_sla", "summary": "The ticket's SLA clocks, explained",
                    "description": "Each clock with the lines that add up to its counted time.",
                    "parameters": ticket_params,
                    "responses": {"200": _ok({"type": "array", "items": "ClockOut"},
                                             "The clocks.", etag=True),
                                  **_problems(403, 404)}},
        },
        "/services": {"get": {"operationId": "services", "summary": "The service catalogue",
                              "responses": {"200": _ok({"type": "array", "items": "ServiceOut"},
                                                       "Staff: every catalogue entry. "
                                                       "Requesters: the services the portal "
                                                       "lists and the retired ones, not those "
                                                       "still proposed."), **_problems()}}},
        "/groups": {"get": {"operationId": "groups", "summary": "Your groups and their queues",
                            "responses": {"200": _ok({"type": "array", "items": "GroupOut"},
                                                     "With active and unassigned counts."),
                                          **_problems(403)}}},
        "/me": {"get": {"operationId": "me", "summary": "Who the token belongs to",
                        "responses": {"200": _ok("MeOut", "You."), **_problems()}}},
    }


@cache
def openapi_document() -> dict[str, Any]:
    spec = APISpec(
        title="Helpdesk API", version="1.0.0", openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The helpdesk's operations for other systems. Authenticate with a "
                             "personal API token: Authorization: Bearer hd_…. Each token may make a "
                             "number of requests in any 60 seconds: every answer but a 401 says "
                             "how many are left (RateLimit), a 429 when to try again "
                             "(Retry-After)."},
        servers=[{"url": "/api/v1"}],
        security=[{"token": []}],
    )
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    for name in _SCHEMAS:
        spec.components.schema(name, schema=getattr(schemas, name))
    for path, operations in _operations().items():
        spec.path(path=path, operations=operations)
    return _plain_query_parameters(spec.to_dict())


def _plain_query_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value: it cannot be null, whatever the schema says."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                schema.pop("nullable", None)
                if schema.get("default", 0) is None:
                    del schema["default"]
                if "enum" in schema:
                    schema["enum"] = [v for v in schema["enum"] if v is not None]
    return document
