"""The webhook tests' receiver: a real HTTP server on 127.0.0.1, one for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.webhooks.support import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r
