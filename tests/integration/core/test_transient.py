"""PostgreSQL's own refusals for the moment, as ``is_transient`` knows them."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from helpdesk.core.concurrency import is_transient


@pytest.mark.postgres
def test_a_statement_that_ran_out_of_time_is_worth_trying_again(postgres_url):
    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection, pytest.raises(DBAPIError) as timed_out:
            connection.exec_driver_sql("SET statement_timeout = 1")
            connection.exec_driver_sql("SELECT pg_sleep(1)")
        assert is_transient(timed_out.value)
        with engine.connect() as connection, pytest.raises(DBAPIError) as broken_rule:
            connection.exec_driver_sql("SELECT 1 / 0")
        assert not is_transient(broken_rule.value)
    finally:
        engine.dispose()
