"""Personal API tokens: what lets a request in, and how people make and revoke them."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.cli import ScriptInfo
from sqlalchemy import select

from helpdesk.api.tokens import ApiToken, revoke_token
from helpdesk.cli import main
from helpdesk.core.clock import utcnow
from helpdesk.extensions import db
from tests.conftest import build_app
from tests.support import fast_password_hashing
from tests.web.api.client import ApiClient, new_ticket
from tests.web.helpers import get, person, post


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
     "Give a date before the year 10000."),
], ids=["NUL in the name", "expiry at the end of the calendar"])
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
