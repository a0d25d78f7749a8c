"""Calling the API as an integration would: a bearer token, JSON, no cookies."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.web.helpers import PersonClient


class ApiClient:
    def __init__(self, app: Flask, token: str | None) -> None:
        self.http = PersonClient(app, app.response_class, use_cookies=False)
        self.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        base = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**base, **(headers or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.http.get(f"/api/v1{path}", headers=self._headers(headers), **kwargs)

    def post(self, path: str, json: Any = None, headers: dict[str, str] | None = None,
             **kwargs: Any) -> Any:
        return self.http.post(f"/api/v1{path}", json=json, headers=self._headers(headers),
                              **kwargs)


def new_ticket(api: ApiClient, service: str = "mail", **fields: Any) -> Any:
    body = {"service": service, "subject": "Utskriften fastnar", "description": "Papper fastnar.",
            "impact": 2, "urgency": 2, **fields}
    response = api.post("/tickets", json=body)
    assert response.status_code == 201, response.json
    return response.json
