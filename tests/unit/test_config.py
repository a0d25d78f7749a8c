"""Settings read from the environment: the site's address that mails link to, the API's rate."""

from __future__ import annotations

import pytest

from helpdesk.app import create_app
from helpdesk.config import ConfigError, Settings


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HELPDESK_INSTANCE_DIR", str(tmp_path))
    monkeypatch.setenv("HELPDESK_SECRET_KEY", "x" * 40)
    return monkeypatch


def test_development_links_to_where_make_run_serves(environment):
    environment.delenv("HELPDESK_BASE_URL", raising=False)
    assert Settings.from_environment().base_url == "http://127.0.0.1:5000"


def test_production_without_an_address_sends_no_links_rather_than_wrong_ones(environment):
    environment.setenv("HELPDESK_ENV", "production")
    environment.delenv("HELPDESK_BASE_URL", raising=False)
    assert Settings.from_environment().base_url == ""


def test_the_address_is_kept_without_its_trailing_slash(environment):
    environment.setenv("HELPDESK_BASE_URL", "https://helpdesk.example.se/hd/")
    assert Settings.from_environment().base_url == "https://helpdesk.example.se/hd"


@pytest.mark.parametrize("wrong", ["helpdesk.example.se", "ftp://example.se", "https://a b"])
def test_an_address_that_is_not_http_is_refused_by_name(environment, wrong):
    environment.setenv("HELPDESK_BASE_URL", wrong)
    with pytest.raises(ConfigError, match="HELPDESK_BASE_URL"):
        Settings.from_environment()


@pytest.mark.parametrize(("raw", "problem"), [("0", "at least 1"), ("-5", "at least 1"),
                                              ("many", "a whole number")])
def test_an_api_rate_that_would_refuse_every_request_or_is_no_number_is_refused(environment,
                                                                               raw, problem):
    environment.setenv("HELPDESK_API_RATE_PER_MINUTE", raw)
    with pytest.raises(ConfigError, match=f"HELPDESK_API_RATE_PER_MINUTE must be {problem}"):
        create_app()
