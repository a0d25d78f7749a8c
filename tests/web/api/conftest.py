"""Fixtures for the API's tests."""

from __future__ import annotations

import pytest

from tests.web.api.client import ApiClient


@pytest.fixture
def apis(app, factory, org):
    """An API client per person of the tiered organisation."""
    def api(user):
        return ApiClient(app, factory.api_token(user))

    return {name: api(getattr(org, name)) for name in (
        "requester", "other_requester", "local_agent", "desk_agent", "level2_agent",
        "level3_agent", "admin")}
