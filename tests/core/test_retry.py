"""core.retry: a conflict the database aborted is run again, a bounded number of times.

The real deadlock is provoked on PostgreSQL in test_concurrency.py; these
check the bounds and the pass-through with the database's own error types.
"""

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, transaction

from core import retry
from core.errors import ConcurrentUpdate
from core.retry import retry_on_conflict


class SqlState(Exception):
    """Stands for the driver's error under Django's wrapper (psycopg sets `sqlstate`)."""

    def __init__(self, sqlstate):
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def database_error(kind=OperationalError, sqlstate="40P01") -> DatabaseError:
    error = kind("deadlock detected")
    error.__cause__ = SqlState(sqlstate)
    return error


def failing(times: int, error_factory):
    calls = []

    @retry_on_conflict
    def service():
        calls.append(1)
        if len(calls) <= times:
            raise error_factory()
        return "done"

    return service, calls


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    monkeypatch.setattr(retry.time, "sleep", lambda seconds: None)


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"], ids=["deadlock", "serialization"])
def test_a_conflict_is_run_again_until_it_goes_through(sqlstate):
    service, calls = failing(retry.ATTEMPTS - 1, lambda: database_error(sqlstate=sqlstate))
    assert service() == "done"
    assert len(calls) == retry.ATTEMPTS


def test_conflicts_past_the_bound_become_a_409_domain_error():
    service, calls = failing(retry.ATTEMPTS, database_error)
    with pytest.raises(ConcurrentUpdate) as raised:
        service()
    assert len(calls) == retry.ATTEMPTS
    assert raised.value.status == 409
    assert isinstance(raised.value.__cause__, OperationalError)


@pytest.mark.parametrize(
    "error",
    [
        lambda: database_error(IntegrityError, "23505"),
        lambda: DatabaseError("injected fault"),
        lambda: ValueError("bad id"),
    ],
    ids=["unique-violation", "plain-database-error", "not-a-database-error"],
)
def test_other_errors_are_not_retried(error):
    service, calls = failing(1, error)
    with pytest.raises(type(error())):
        service()
    assert len(calls) == 1


@pytest.mark.django_db
def test_inside_an_outer_transaction_a_conflict_is_not_retried_but_becomes_a_409():
    service, calls = failing(1, database_error)
    with pytest.raises(ConcurrentUpdate), transaction.atomic():
        service()
    assert len(calls) == 1
