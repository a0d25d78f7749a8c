"""E-mail addresses are kept in lower case, so every lookup by address is one index probe
and finds the person whatever case they type or their mail program sends."""

from __future__ import annotations

from sqlalchemy import select

from helpdesk.accounts.models import Role, User
from helpdesk.extensions import db
from tests.conftest import PASSWORD


def test_an_address_is_stored_in_lower_case(session):
    user = User(email="  Karin.Berg@Fysik.Example.SE ", name="Karin", role=Role.REQUESTER)
    db.session.add(user)
    db.session.flush()
    assert db.session.scalars(select(User.email).where(User.id == user.id)).one() == (
        "karin.berg@fysik.example.se")


def test_signing_in_does_not_depend_on_the_case_of_the_address(client, factory):
    user = factory.user(Role.AGENT)
    response = client.post("/login", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
