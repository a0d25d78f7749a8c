"""Personal API tokens: what lets a request in, and how people make and revoke them."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import select

from helpdesk.api.ratelimit import RateLimiter
from helpdesk.api.tokens import ApiToken, revoke_token
from helpdesk.cli import main
from helpdesk.core.clock import utcnow
from helpdesk.core.concurrency import LOCK_WAIT_MS
from helpdesk.extensions import db
from helpdesk.web import edge
from tests.conftest import build_app
from tests.support import fast_password_hashing
from tests.web.api.client import ApiClient, new_ticket
from tests.web.helpers import get, person, post

REALM_ONLY = 'Bearer realm="helpdesk"'


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def test_a_token_identifies_its_user(app, factory, org):
    api = ApiClient(app, factory.api_token(org.requester))
    me = api.get("/me")
    assert me.status_code == 200
    assert me.json["email"] == org.requester.email
    assert me.json["token_scope"] == "write"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer hd_not-a-real-token", "Basic Zm9vOmJhcg=="])
def test_no_or_unknown_token_is_401_problem(app, factory, org, header):
    client = ApiClient(app, None)
    response = client.get("/me", headers={"Authorization": header} if header else None)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["status"] == 401


def test_a_revoked_token_no_longer_works(app, factory, org):
    secret = factory.api_token(org.requester)
    api = ApiClient(app, secret)
    assert api.get("/me").status_code == 200
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.requester.id)).one()
    revoke_token(token, now=utcnow())
    assert api.get("/me").status_code == 401


def test_an_expired_token_no_longer_works(app, factory, org):
    now = utcnow()
    fresh = ApiClient(app, factory.api_token(org.requester, now=now - timedelta(days=2),
                                             expires_at=now + timedelta(minutes=5)))
    stale = ApiClient(app, factory.api_token(org.requester, now=now - timedelta(days=2),
                                             expires_at=now - timedelta(seconds=1)))
    assert fresh.get("/me").status_code == 200
    assert stale.get("/me").status_code == 401


def test_an_inactive_users_token_no_longer_works(app, factory, org):
    api = ApiClient(app, factory.api_token(org.requester))
    org.requester.active = False
    db.session.flush()
    assert api.get("/me").status_code == 401


def test_a_read_token_reads_but_may_not_write(app, factory, org):
    reader = ApiClient(app, factory.api_token(org.requester, scope="read"))
    ticket = new_ticket(ApiClient(app, factory.api_token(org.requester)))
    assert reader.get(f"/tickets/{ticket['reference']}").status_code == 200
    refused = reader.post("/tickets", json={"service": "mail"})
    assert refused.status_code == 403
    assert "scope" in refused.json["detail"]
    assert reader.post(f"/tickets/{ticket['reference']}/messages",
                       json={"body": "Hej"}).status_code == 403


def test_a_session_cookie_does_not_authenticate_the_api(app, org):
    browser = person(app, org.requester)
    assert browser.get("/portal/tickets").status_code == 200  # logged in for the UI
    response = browser.post("/api/v1/tickets", json={"service": "mail", "subject": "x",
                                                     "description": "y", "impact": 2, "urgency": 2})
    assert response.status_code == 401


def test_too_many_requests_get_429_with_retry_after(app, factory, org):
    api = ApiClient(app, factory.api_token(org.requester))
    app.config["HELPDESK_API_RATE_PER_MINUTE"] = 3
    try:
        statuses = [api.get("/me").status_code for _ in range(4)]
        last = api.get("/me")
    finally:
        app.config["HELPDESK_API_RATE_PER_MINUTE"] = 600
    assert statuses[:3] == [200, 200, 200]
    assert last.status_code == 429
    assert 0 < int(last.headers["Retry-After"]) <= 60
    # Another token is counted on its own.
    assert ApiClient(app, factory.api_token(org.requester)).get("/me").status_code == 200


def test_every_counted_answer_says_what_the_token_has_left(app, factory, org):
    api = ApiClient(app, factory.api_token(org.requester))
    app.config["HELPDESK_API_RATE_PER_MINUTE"] = 3
    try:
        answers = [api.get("/me"), api.get("/tickets/HD-1999-000001"), api.get("/me"),
                   api.get("/me")]
    finally:
        app.config["HELPDESK_API_RATE_PER_MINUTE"] = 600
    assert [a.status_code for a in answers] == [200, 404, 200, 429]
    assert {a.headers["RateLimit-Policy"] for a in answers} == {'"per-token";q=3;w=60'}
    fields = [dict(part.split("=") for part in a.headers["RateLimit"].split(";")[1:])
              for a in answers]
    assert [f["r"] for f in fields] == ["2", "1", "0", "0"]
    # The first request leaves the window within the minute; the refusal says when, twice.
    assert all(0 < int(f["t"]) <= 60 for f in fields)
    assert fields[3]["t"] == answers[3].headers["Retry-After"]


def test_an_answer_to_no_token_says_nothing_of_a_limit(app):
    refused = app.test_client().get("/api/v1/me")
    assert refused.status_code == 401
    assert "RateLimit" not in refused.headers and "RateLimit-Policy" not in refused.headers


def test_apps_on_one_instance_folder_count_a_token_together(app, factory, org):
    # A second app on the same instance folder and database, as each gunicorn worker is.
    worker = build_app(db.engine.dialect.name, Path(app.instance_path),
                       app.config["SQLALCHEMY_DATABASE_URI"])
    assert worker.config["HELPDESK_API_RATE_FILE"] == app.config["HELPDESK_API_RATE_FILE"]
    secret = factory.api_token(org.requester)
    first, second = ApiClient(app, secret), ApiClient(worker, secret)
    app.config["HELPDESK_API_RATE_PER_MINUTE"] = worker.config["HELPDESK_API_RATE_PER_MINUTE"] = 4
    try:
        statuses = [client.get("/me").status_code for client in (first, second, first, second)]
        refused = (first.get("/me"), second.get("/me"))
    finally:
        app.config["HELPDESK_API_RATE_PER_MINUTE"] = 600
    assert statuses == [200, 200, 200, 200]
    assert [response.status_code for response in refused] == [429, 429]


def test_a_user_creates_a_token_sees_it_once_and_revokes_it(app, org):
    browser = person(app, org.requester)
    page = post(browser, "/account/tokens", {"name": "Övervakning", "scope": "read",
                                             "expires_on": ""})
    assert page.status == 201
    secret = page.doc.one("input", id="new-token").attrs["value"]
    assert re.fullmatch(r"hd_[A-Za-z0-9_-]{43}", secret)
    assert ApiClient(app, secret).get("/me").json["token_scope"] == "read"
    stored = db.session.scalars(select(ApiToken).where(ApiToken.name == "Övervakning")).one()
    assert secret not in (stored.token_hash, stored.hint)  # only a hash and a prefix are kept

    listing = get(browser, "/account/tokens")
    assert "Övervakning" in listing.text
    assert secret not in listing.html  # shown once, never again
    response = browser.post(f"/account/tokens/{stored.id}/revoke")
    assert response.status_code == 302
    assert ApiClient(app, secret).get("/me").status_code == 401
    assert "revoked" in get(browser, "/account/tokens").text


def test_the_token_form_names_what_is_wrong_and_keeps_it(app, org):
    browser = person(app, org.requester)
    page = post(browser, "/account/tokens", {"name": "  ", "scope": "write",
                                             "expires_on": "2020-01-01"})
    assert page.status == 422
    assert page.doc.one("input", id="name").attrs.get("aria-invalid") == "true"
    assert page.doc.one("input", id="scope-write").attrs.get("checked") is not None


@pytest.mark.parametrize(("form", "field", "message"), [
    ({"name": "Över\x00vakning", "expires_on": ""}, "name",
     "The text may not contain NUL characters."),  # no database could keep it
    ({"name": "Länge", "expires_on": "9999-12-31"}, "expires_on",  # expiring at the day's end
     "Give a date at most 10 years from today."),
    ({"name": "\u200b", "expires_on": ""}, "name", "Give the token a name."),  # shows nothing
    ({"name": " \u2060\t\ufeff ", "expires_on": ""}, "name", "Give the token a name."),
    ({"name": "x" * 101, "expires_on": ""}, "name", "Give a name of at most 100 characters."),
], ids=["NUL in the name", "expiry at the end of the calendar", "zero-width space as name",
        "only invisible characters", "name too long"])
def test_a_token_the_helpdesk_could_not_keep_is_refused_with_a_reason(app, org, form, field,
                                                                     message):
    page = post(person(app, org.requester), "/account/tokens", {"scope": "read", **form})
    assert page.status == 422
    assert page.doc.one("input", id=field).attrs.get("aria-invalid") == "true"
    assert message in page.text
    assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.requester.id)
                              ).all() == []


def test_nobody_revokes_someone_elses_token(app, factory, org):
    secret = factory.api_token(org.requester)
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.requester.id)).one()
    other = person(app, org.other_requester)
    assert other.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    assert ApiClient(app, secret).get("/me").status_code == 200


def test_the_cli_creates_lists_and_revokes_tokens(app, org):
    def run(*args: str) -> str:
        result = app.test_cli_runner().invoke(main, ["api", "token", *args],
                                              obj=ScriptInfo(create_app=lambda: app))
        assert result.exit_code == 0, result.output
        return str(result.output)

    created = run("create", "--email", org.requester.email, "--name", "Larm", "--scope", "write",
                  "--expires-days", "30")
    secret = created.strip().splitlines()[-1]
    token_id = created.split()[1]
    assert ApiClient(app, secret).get("/me").status_code == 200
    listed = run("list", "--email", org.requester.email)
    assert "Larm" in listed and "active" in listed and secret not in listed
    run("revoke", token_id)
    assert ApiClient(app, secret).get("/me").status_code == 401


# --- what the API answers a token it cannot use (RFC 6750) --------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer   ", "Basic Zm9vOmJhcg=="])
def test_a_request_without_a_token_is_only_told_the_realm(app, header):
    response = ApiClient(app, None).get("/me", headers={"Authorization": header} if header else None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == REALM_ONLY


def test_an_unknown_revoked_or_expired_token_is_told_it_is_invalid(app, factory, org):
    now = utcnow()
    revoked = factory.api_token(org.requester)
    revoke_token(db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.requester.id)
                                    ).one(), now=now)
    expired = factory.api_token(org.requester, now=now - timedelta(days=2),
                                expires_at=now - timedelta(seconds=1))
    for secret in ("hd_not-a-real-token", "not-even-ours", revoked, expired):
        response = ApiClient(app, secret).get("/me")
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == (
            'Bearer realm="helpdesk", error="invalid_token"'), secret


def test_a_read_token_writing_is_told_the_scope_it_lacks(app, factory, org):
    refused = ApiClient(app, factory.api_token(org.requester, scope="read")).post(
        "/tickets", json={"service": "mail"})
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"] == (
        'Bearer realm="helpdesk", error="insufficient_scope", scope="write"')


# --- the rate limit never stops the helpdesk ----------------------------------------------


def test_a_stuck_rate_limit_file_lets_requests_through_uncounted(app, factory, org, monkeypatch,
                                                                tmp_path):
    path = tmp_path / "api-rate.sqlite3"
    monkeypatch.setitem(app.extensions, "helpdesk_api_rate", RateLimiter(path))
    api = ApiClient(app, factory.api_token(org.requester))
    assert api.get("/me").status_code == 200  # the file exists, the connection is open
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # a process holding the file's write lock
        started = time.monotonic()
        response = api.get("/me")
        waited = time.monotonic() - started
    finally:
        other.close()
    assert response.status_code == 200, response.json
    assert waited < LOCK_WAIT_MS / 1000  # not the database's whole wait for its lock
    assert api.get("/me").status_code == 200


# --- making a token on the page -----------------------------------------------------------


@pytest.mark.parametrize(("moment", "day", "ends_at", "shown"), [
    # 00:30 in Stockholm on 1 December: that day is today there, though not yet in UTC.
    (datetime(2026, 11, 30, 23, 30, tzinfo=UTC), "2026-12-01",
     datetime(2026, 12, 1, 23, 0, tzinfo=UTC), "2026-12-02 00:00"),
    # Summer time: Stockholm is two hours ahead.
    (datetime(2026, 6, 1, 12, 0, tzinfo=UTC), "2026-07-01",
     datetime(2026, 7, 1, 22, 0, tzinfo=UTC), "2026-07-02 00:00"),
    # The day summer time ends is 25 hours long; its end is still the next midnight.
    (datetime(2026, 10, 1, 12, 0, tzinfo=UTC), "2026-10-25",
     datetime(2026, 10, 25, 23, 0, tzinfo=UTC), "2026-10-26 00:00"),
], ids=["just after local midnight", "summer time", "the day summer time ends"])
def test_a_token_works_until_the_end_of_its_day_where_the_helpdesk_is(
        app, org, monkeypatch, moment, day, ends_at, shown):
    browser = person(app, org.requester)
    monkeypatch.setattr(edge, "now", lambda: moment)
    page = post(browser, "/account/tokens", {"name": "Larm", "scope": "read", "expires_on": day})
    assert page.status == 201, page.text
    token = db.session.scalars(select(ApiToken).where(ApiToken.name == "Larm")).one()
    assert token.expires_at == ends_at
    cells = [cell.text for cell in page.doc.one("tbody").find_all("td")]
    assert cells[3] == shown  # Expires, in the page's local time


def test_a_day_already_over_where_the_helpdesk_is_is_refused(app, org, monkeypatch):
    browser = person(app, org.requester)
    # 00:30 on 1 December in Stockholm, still 30 November in UTC.
    monkeypatch.setattr(edge, "now", lambda: datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    page = post(browser, "/account/tokens", {"name": "Igår", "scope": "read",
                                             "expires_on": "2026-11-30"})
    assert page.status == 422
    assert page.doc.one("input", id="expires_on").attrs.get("aria-invalid") == "true"
    assert "The expiry date must be in the future." in page.text
    assert db.session.scalars(select(ApiToken).where(ApiToken.name == "Igår")).all() == []


def test_a_token_may_expire_up_to_ten_years_ahead(app, org, monkeypatch):
    browser = person(app, org.requester)
    monkeypatch.setattr(edge, "now", lambda: datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    far = post(browser, "/account/tokens", {"name": "Länge", "expires_on": "2036-03-11"})
    assert far.status == 422
    assert "Give a date at most 10 years from today." in far.text
    assert post(browser, "/account/tokens", {"name": "Länge",
                                             "expires_on": "2036-03-10"}).status == 201


def test_no_token_page_is_kept_by_a_browser_or_proxy(app, org):
    browser = person(app, org.requester)
    made = post(browser, "/account/tokens", {"name": "Larm", "scope": "read", "expires_on": ""})
    assert made.status == 201  # the page that shows the secret
    refused = post(browser, "/account/tokens", {"name": "", "expires_on": ""})
    assert refused.status == 422
    listing = browser.get("/account/tokens")
    token = db.session.scalars(select(ApiToken).where(ApiToken.name == "Larm")).one()
    revoked = browser.post(f"/account/tokens/{token.id}/revoke")
    for response in (made.response, refused.response, listing, revoked):
        assert response.headers.get("Cache-Control") == "no-store", response.status_code


# --- the console ---------------------------------------------------------------------------


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(main, ["api", "token", *args],
                                        obj=ScriptInfo(create_app=lambda: app))


def _tokens_of(user) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)))


def test_the_cli_finds_a_user_by_the_address_in_any_case(app, org):
    typed = f"  {org.requester.email.upper()} "
    result = _cli(app, "create", "--email", typed, "--name", "Larm")
    assert result.exit_code == 0, result.output
    assert f"for {org.requester.email}:" in result.output
    assert ApiClient(app, result.output.strip().splitlines()[-1]).get("/me").status_code == 200
    listed = _cli(app, "list", "--email", typed)
    assert listed.exit_code == 0 and "Larm" in listed.output


def test_the_cli_makes_no_token_for_a_deactivated_user_and_lists_theirs_as_such(app, org):
    assert _cli(app, "create", "--email", org.requester.email, "--name", "Larm").exit_code == 0
    org.requester.active = False
    db.session.flush()
    refused = _cli(app, "create", "--email", org.requester.email, "--name", "Ny")
    assert refused.exit_code == 1
    assert f"{org.requester.email} is deactivated" in refused.output
    assert [token.name for token in _tokens_of(org.requester)] == ["Larm"]
    listed = _cli(app, "list", "--email", org.requester.email)
    assert listed.exit_code == 0
    assert "user inactive" in listed.output and " active " not in listed.output


@pytest.mark.parametrize(("name", "message"), [
    ("x" * 101, "Give a name of at most 100 characters."),
    ("a\x00b", "The text may not contain NUL characters."),
    ("\u200b", "Give the token a name."),
    ("   ", "Give the token a name."),
], ids=["too long", "NUL", "zero-width space", "blank"])
def test_the_cli_refuses_a_name_the_page_refuses(app, org, name, message):
    result = _cli(app, "create", "--email", org.requester.email, "--name", name)
    assert result.exit_code == 2
    assert "--name" in result.output and message in result.output
    assert _tokens_of(org.requester) == []


@pytest.mark.parametrize("token_id", ["99999999999999999999999", "2147483648", "0", "-1"])
def test_the_cli_refuses_a_token_number_out_of_range(app, token_id):
    result = _cli(app, "revoke", "--", token_id)
    assert result.exit_code == 2, result.output
    assert "not in the range 1<=x<=2147483647" in result.output
