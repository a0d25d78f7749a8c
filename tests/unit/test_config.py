"""Settings read from the environment: the site's address that mails link to, the API's rate,
the scheduler's intervals; and how the command says that one cannot be used."""

from __future__ import annotations

import sys
from datetime import timedelta

import pytest

from helpdesk.app import create_app
from helpdesk.cli import run
from helpdesk.config import ConfigError, Settings
from helpdesk.sla.scheduler import Timing


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


@pytest.mark.parametrize(("raw", "problem"), [("abc", "a number of seconds"),
                                              ("0", "more than 0 seconds"),
                                              ("-1", "more than 0 seconds"),
                                              ("nan", "more than 0 seconds"),
                                              ("inf", "more than 0 seconds")])
def test_a_scheduler_interval_that_is_no_time_is_refused_by_name(environment, raw, problem):
    environment.setenv("HELPDESK_SWEEP_SECONDS", raw)
    with pytest.raises(ConfigError, match=f"HELPDESK_SWEEP_SECONDS must be {problem}"):
        Timing.from_environment()


def test_the_intervals_may_be_fractions_of_a_second(environment):
    environment.setenv("HELPDESK_INTAKE_SECONDS", "0.5")
    assert Timing.from_environment().intake == timedelta(milliseconds=500)


def test_the_command_names_a_setting_it_cannot_use_in_one_line(environment, capsys):
    environment.setenv("HELPDESK_MAIL_MAX_MB", "many")
    environment.setattr(sys, "argv", ["helpdesk", "sla", "sweep"])
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == 78  # EX_CONFIG
    assert capsys.readouterr().err == (
        "helpdesk: HELPDESK_MAIL_MAX_MB must be a whole number, got 'many'\n")
