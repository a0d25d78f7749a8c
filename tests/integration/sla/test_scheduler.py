"""Several scheduler processes, one leader: the database lease, takeover and restart.

Each ``Leader`` here has an app (and engine) of its own on one fresh database, as separate
processes would, and is driven with explicit ``now=`` values: no sleeping. The tickets are
the ``sla_org`` ones (created Tue 10 March 2026 10:00 Stockholm at P3): each first response
warns at 13:00 and is due at 14:00.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from helpdesk.accounts.models import User
from helpdesk.catalogue.models import Service
from helpdesk.core.lease import Lease
from helpdesk.core.outbox import OutboxMessage
from helpdesk.sla import effects
from helpdesk.sla.models import AlertKind, SlaAlert, SlaClock
from helpdesk.sla.scheduler import LEASE, Timing
from tests.conftest import NOW, Factory, SlaOrg, TieredOrg
from tests.integration.conftest import Database
from tests.integration.sla.checks import sthlm
from tests.support import fast_password_hashing

LEASE_TIME = timedelta(minutes=30)
TIMING = Timing(tick=timedelta(milliseconds=10), lease=LEASE_TIME, sweep=timedelta(0))


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    fast_password_hashing(monkeypatch)


def create_tickets(database: Database, count: int, at=NOW,
                   policy_effects: dict | None = None) -> None:
    """Commit ``count`` tickets created ``at`` (and, the first time, the sla_org rows)."""
    with database.session() as session:
        factory = Factory(database.apps[0].config["HELPDESK"])
        service = session.scalar(select(Service).where(Service.code == "mail"))
        if service is None:
            sla_org = SlaOrg(factory, TieredOrg(factory))
            service, requester = sla_org.org.service, sla_org.org.requester
        else:
            requester = session.scalar(select(User).where(User.name == "Anna Requester"))
        if policy_effects is not None:
            service.sla_policy.effects = policy_effects
        for _ in range(count):
            factory.ticket(requester, service, at)
        session.commit()


def breaches_per_clock(database: Database, kind: AlertKind = AlertKind.BREACH) -> dict[int, int]:
    with database.session() as session:
        rows = session.execute(select(SlaAlert.clock_id, func.count(SlaAlert.id))
                               .where(SlaAlert.kind == kind).group_by(SlaAlert.clock_id)).all()
        return {clock_id: n for clock_id, n in rows}


def recorded_by(database: Database, kind: AlertKind) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(SlaAlert.recorded_by).where(SlaAlert.kind == kind)))


def first_response_clocks(database: Database) -> set[int]:
    with database.session() as session:
        return set(session.scalars(select(SlaClock.id).where(
            SlaClock.metric == "first_response")))


def lease_holder(database: Database) -> tuple[str, Any]:
    with database.session() as session:
        lease = session.get(Lease, LEASE)
        return lease.holder, lease.expires_at


def test_one_leader_at_a_time_and_the_other_takes_over_when_the_lease_runs_out(database):
    create_tickets(database, 3)
    a, b = database.leader("a", TIMING), database.leader("b", TIMING)
    t0 = sthlm(10, 13)

    first = a.tick(t0)
    assert first.leader and len(first.swept.warnings) == 3
    assert not b.tick(t0 + timedelta(minutes=10)).leader
    assert a.tick(t0 + timedelta(minutes=20)).leader  # renewed until 13:50
    assert lease_holder(database) == ("a", t0 + timedelta(minutes=50))
    refused = b.tick(t0 + timedelta(minutes=50))  # not yet run out
    assert (refused.leader, refused.swept) == (False, None)

    # "a" stops renewing (hung or dead); its lease ran out at 13:50.
    took_over = b.tick(t0 + timedelta(minutes=50, microseconds=1))
    assert took_over.leader and took_over.swept.breaches == []
    assert lease_holder(database)[0] == "b"
    breached = b.tick(sthlm(10, 14))
    assert len(breached.swept.breaches) == 3
    assert not a.tick(sthlm(10, 14, 1)).leader  # back from the dead: still not the leader

    clocks = first_response_clocks(database)
    assert breaches_per_clock(database) == dict.fromkeys(clocks, 1)
    assert breaches_per_clock(database, AlertKind.WARNING) == dict.fromkeys(clocks, 1)
    assert recorded_by(database, AlertKind.WARNING) == {"a"}
    assert recorded_by(database, AlertKind.BREACH) == {"b"}


def test_the_leader_sweeps_at_its_own_interval(database):
    create_tickets(database, 1)
    a = database.leader("a", Timing(tick=timedelta(seconds=1), lease=LEASE_TIME,
                                    sweep=timedelta(minutes=5)))
    assert a.tick(sthlm(10, 12, 58)).swept is not None
    second = a.tick(sthlm(10, 13))
    assert second.leader and second.swept is None  # ticks renew the lease only
    assert breaches_per_clock(database, AlertKind.WARNING) == {}
    assert len(a.tick(sthlm(10, 13, 3)).swept.warnings) == 1


def test_a_restarted_scheduler_finds_all_the_work_in_the_database(database):
    create_tickets(database, 2)
    old = database.leader("old", TIMING)
    assert len(old.tick(sthlm(10, 14)).swept.breaches) == 2
    del old  # the process is gone; its lease runs until 14:30

    create_tickets(database, 3, at=sthlm(10, 11))  # due at 15:00, nobody sweeping
    new = database.leader("new", TIMING)
    assert not new.tick(sthlm(10, 14, 30)).leader
    result = new.tick(sthlm(10, 15, 30))
    assert result.leader and len(result.swept.breaches) == 3 and len(result.swept.warnings) == 3
    assert new.tick(sthlm(10, 15, 31)).swept.breaches == []

    clocks = first_response_clocks(database)
    assert len(clocks) == 5
    assert breaches_per_clock(database) == dict.fromkeys(clocks, 1)


def test_a_tick_that_fails_changes_nothing_and_the_next_records_it_once(database, monkeypatch):
    create_tickets(database, 2, policy_effects={"breach": ["notify"]})
    leader = database.leader("a", TIMING)
    assert leader.tick(sthlm(10, 13)).leader  # the warnings

    original = effects.queue_message

    def broken(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(effects, "queue_message", broken)
    failed = leader.tick(sthlm(10, 14))
    assert failed == type(failed)(leader=False)
    assert breaches_per_clock(database) == {}
    with database.session() as session:
        assert session.scalar(select(func.count(OutboxMessage.id))) == 0

    monkeypatch.setattr(effects, "queue_message", original)
    assert len(leader.tick(sthlm(10, 14, 1)).swept.breaches) == 2
    assert leader.tick(sthlm(10, 14, 2)).swept.breaches == []
    clocks = first_response_clocks(database)
    assert breaches_per_clock(database) == dict.fromkeys(clocks, 1)
    with database.session() as session:
        # Nobody is assigned; the local helpdesk's lead is told once per breach.
        assert session.scalar(select(func.count(OutboxMessage.id))) == 2
