"""The OpenAPI document and the reference page people read (no token needed)."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template

from helpdesk.api.blueprint import bp
from helpdesk.api.openapi import openapi_document


@bp.get("/openapi.json", endpoint="openapi_document")
def openapi_document_view() -> Response:
    return jsonify(openapi_document())


def _schema_name(schema: Any) -> str:
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return _schema_name(schema.get("items")) + "[]"
    return str(schema.get("type", ""))


@bp.get("/docs")
def reference() -> str:
    document = openapi_document()
    operations = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {})
            operations.append({
                "method": method.upper(), "path": document["servers"][0]["url"] + path, "op": op,
                "body": [(media, _schema_name(c.get("schema"))) for media, c in body.items()],
                "responses": [(code, r["description"],
                               next((_schema_name(c.get("schema")) for c in
                                     r.get("content", {}).values()), ""))
                              for code, r in op["responses"].items()],
            })
    return render_template("api/reference.html", operations=operations,
                           schemas=document["components"]["schemas"])
