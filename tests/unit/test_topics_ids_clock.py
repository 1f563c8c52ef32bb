"""Typed contracts of the core: topic names made in one place, Silta's own ids, the clock port, fault kinds."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from broker.crypto.ids import MessageIds
from broker.domain.clock import ManualClock, SystemClock, today
from broker.domain.topics import KELA_INBOX, Topic, TopicDirection, destination_of, from_topics, topic_from, writer_of
from broker.services.faults import is_transient


def test_topic_names_round_trip_through_the_parser() -> None:
    """`silta.to.hva-08.v1` and `silta.from.hva-90.v1` parse back to what made them."""
    assert str(Topic(TopicDirection.TO, "hva-08")) == "silta.to.hva-08.v1"
    assert Topic.parse(topic_from("hva-90")) == Topic(TopicDirection.FROM, "hva-90")
    assert Topic.parse("silta.to.kunta-837.v1") == Topic(TopicDirection.TO, "kunta-837")


@pytest.mark.parametrize(
    "name", ["silta.from.kela.v1", "silta.from.kunta-837.v1", "silta.from.hva-22.v1", "silta.to.x.v1", "other"]
)
def test_names_that_are_not_silta_topics_parse_to_nothing(name: str) -> None:
    """Only organisers write to a `from` topic; an unknown party or shape is no topic of Silta's."""
    assert Topic.parse(name) is None
    assert writer_of(name) is None


def test_kela_has_an_inbox_not_a_topic() -> None:
    """Records for Kela are delivered to its REST inbox; every other party gets its `to` topic."""
    assert destination_of("kela") == KELA_INBOX
    assert destination_of("hva-08") == "silta.to.hva-08.v1"
    with pytest.raises(ValueError, match=r"has no silta\.to topic"):
        Topic(TopicDirection.TO, "kela")


def test_there_is_one_from_topic_per_organiser() -> None:
    """22 organisers write to Kela: the 21 wellbeing services counties and Helsinki."""
    assert len(from_topics()) == 22
    assert {writer_of(t) for t in from_topics()} >= {"hva-01", "hva-21", "hva-90"}


def test_silta_ids_are_stable_for_the_same_thing_and_differ_by_key() -> None:
    """A retry derives the same id; another key (another deployment) or another position derives another."""
    ids, other = MessageIds(b"a" * 32), MessageIds(b"b" * 32)
    first = ids.derive("technical-receipt", "silta.from.hva-08.v1/0/5")
    assert first == ids.derive("technical-receipt", "silta.from.hva-08.v1/0/5")
    assert first != ids.derive("technical-receipt", "silta.from.hva-08.v1/0/6")
    assert first != other.derive("technical-receipt", "silta.from.hva-08.v1/0/5")
    assert uuid.UUID(first).version == 8


def test_silta_ids_are_not_the_public_uuid5_of_the_position() -> None:
    """A sender cannot compute the receipt's id from the record's position with a public namespace."""
    position = "silta.from.hva-08.v1/0/5"
    derived = MessageIds(b"a" * 32).derive("technical-receipt", position)
    assert derived not in {
        str(uuid.uuid5(namespace, position)) for namespace in (uuid.NAMESPACE_URL, uuid.NAMESPACE_DNS)
    }


def test_a_manual_clock_moves_only_when_told() -> None:
    """Tests move time through the port instead of sleeping."""
    clock = ManualClock(dt.datetime(2025, 3, 21, 20, 30, tzinfo=dt.UTC))
    assert clock.now() == clock.now()
    assert today(clock) == dt.date(2025, 3, 21)
    clock.advance(dt.timedelta(hours=2))
    assert today(clock) == dt.date(2025, 3, 22)  # 22:30 UTC is already tomorrow in Helsinki (UTC+2)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(dt.datetime(2025, 1, 1))
    assert SystemClock().now().tzinfo is dt.UTC


def test_faults_of_the_infrastructure_are_transient_a_records_own_are_not() -> None:
    """A lost connection is retried; a constraint or a bug stays with the record."""
    assert is_transient(OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(IntegrityError("INSERT", {}, Exception("unique")))
    assert not is_transient(ValueError("hour must be in 0..23"))


class _AsyncpgError(Exception):
    """Stands in for the asyncpg error SQLAlchemy wraps: only its SQLSTATE matters here."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "transient"), [("40P01", True), ("40001", True), ("08006", True), ("23505", False)]
)
def test_postgresql_faults_are_told_apart_by_their_sqlstate(sqlstate: str, transient: bool) -> None:
    """A deadlock, a serialization failure or a lost connection is retried; a unique violation is the record's."""
    error = DBAPIError("UPDATE messages", {}, _AsyncpgError(sqlstate))
    assert is_transient(error) is transient
