"""Fixtures for real parallel connections, a race oracle, faults, logs (a plugin of the root conftest)."""

import io
import logging
import queue
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection, connections

from orders.models import ANONYMIZABLE_PAYMENT, ANONYMIZABLE_SHIPPING, ANONYMIZABLE_STATUS

# How long a test waits for another connection to reach a lock before it fails.
LOCK_WAIT_SECONDS = 15


class Worker(threading.Thread):
    """Runs `target` in a thread with its own database connection.

    Keeps the result or the exception, and the PostgreSQL backend pid of its
    connection (`pid`, set before `target` runs) so a test can see it waiting.
    """

    def __init__(self, target, *args, **kwargs):
        super().__init__(daemon=True)
        self._target_call = (target, args, kwargs)
        self.result = None
        self.error = None
        self._pid = queue.Queue(maxsize=1)

    def run(self):
        target, args, kwargs = self._target_call
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self._pid.put(cursor.fetchone()[0])
            self.result = target(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the test, not swallowed
            self.error = exc
        finally:
            connections.close_all()

    @property
    def pid(self) -> int:
        if not hasattr(self, "_pid_value"):
            self._pid_value = self._pid.get(timeout=LOCK_WAIT_SECONDS)
        return self._pid_value

    def finish(self):
        self.join(LOCK_WAIT_SECONDS * 2)
        assert not self.is_alive(), "a worker never finished (a lock was never released?)"
        return self


def blocked_by(pid: int) -> list[int]:
    """Backend pids that `pid` is waiting for (empty when it is not waiting on a lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
        return list(cursor.fetchone()[0])


def wait_until_blocked(waiter: Worker, holder: Worker | None = None) -> None:
    """Wait until `waiter`'s connection waits on a lock (held by `holder`, if given)."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while time.monotonic() < deadline:
        if not waiter.is_alive():
            raise AssertionError(f"worker finished without waiting on a lock: {waiter.error!r}")
        pids = blocked_by(waiter.pid)
        if pids and (holder is None or holder.pid in pids):
            return
        time.sleep(0.01)
    raise AssertionError(f"worker {waiter.pid} never waited on a lock held by {holder and holder.pid}")


def _sql_in(values) -> str:
    return ", ".join(f"'{value}'" for value in sorted(values))


@pytest.fixture
def race_oracle(transactional_db):
    """Records, inside the database, every order that becomes anonymized while it may not be.

    A trigger sees each row as it is written, after any lock wait, so it
    catches exactly the race the services' row locks exist to prevent: an
    anonymization deciding on statuses another transaction has changed since.
    Returns a function listing the (order id, status, payment, shipping, held) seen.
    """
    eligible = (
        f"NEW.status IN ({_sql_in(ANONYMIZABLE_STATUS)}) OR NEW.payment IN ({_sql_in(ANONYMIZABLE_PAYMENT)}) "
        f"OR NEW.shipping IN ({_sql_in(ANONYMIZABLE_SHIPPING)})"
    )
    held = (
        "EXISTS (SELECT 1 FROM orders_legalhold h WHERE h.order_id = NEW.id AND h.released_at IS NULL "
        "AND (h.ends_on IS NULL OR h.ends_on >= current_date))"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE hardening_violation (order_id uuid, status text, payment text, shipping text, "
            "held boolean)"
        )
        cursor.execute(
            f"""
            CREATE FUNCTION hardening_check() RETURNS trigger AS $$
            BEGIN
                IF NEW.anonymized AND NOT OLD.anonymized AND (NOT ({eligible}) OR {held}) THEN
                    INSERT INTO hardening_violation
                    VALUES (NEW.id, NEW.status, NEW.payment, NEW.shipping, {held});
                END IF;
                RETURN NEW;
            END $$ LANGUAGE plpgsql
            """
        )
        cursor.execute(
            "CREATE TRIGGER hardening_check BEFORE UPDATE ON orders_order "
            "FOR EACH ROW EXECUTE FUNCTION hardening_check()"
        )

    def violations():
        with connection.cursor() as cursor:
            cursor.execute("SELECT order_id, status, payment, shipping, held FROM hardening_violation")
            return cursor.fetchall()

    yield violations
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS hardening_check ON orders_order")
        cursor.execute("DROP FUNCTION IF EXISTS hardening_check()")
        cursor.execute("DROP TABLE IF EXISTS hardening_violation")


@contextmanager
def fail_on(sql_fragment: str, *, after: str | None = None):
    """Make the first database call whose SQL contains `sql_fragment` fail, as a lost connection would.

    With `after`, only once a statement containing `after` has run (so the
    fault lands in the middle of a batch). Yields the SQL seen, in order.
    """
    seen: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if sql_fragment in sql and (after is None or any(after in s for s in seen)):
            seen.append(sql)
            raise DatabaseError(f"injected fault on: {sql_fragment}")
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield seen


class LogOutput:
    """What the project's own log handlers wrote, as text."""

    def __init__(self, streams):
        self._streams = streams

    @property
    def text(self) -> str:
        return "".join(stream.getvalue() for stream in self._streams)


def _project_handlers() -> list[logging.StreamHandler]:
    """Every stream handler of every logger, the project's and Django's defaults; not pytest's."""
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    handlers = {
        handler
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler) and not type(handler).__module__.startswith("_pytest")
    }
    return sorted(handlers, key=id)


@pytest.fixture
def all_logs():
    """Everything the project's logging writes, with every logger opened to DEBUG.

    The project's handlers, filters and formatters stay as LOGGING configures
    them; only their streams are swapped for buffers. Every logger is set to
    DEBUG, so even debug messages are checked, except django.db.backends: the
    project deliberately keeps it above DEBUG because Django logs each SQL
    statement with its parameters there (test_pii_guard checks that decision).
    """
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    levels = {logger: logger.level for logger in loggers}
    handlers = _project_handlers()
    assert handlers, "the project's LOGGING configures no stream handler"
    streams = {handler: io.StringIO() for handler in handlers}
    previous = {handler: handler.setStream(stream) for handler, stream in streams.items()}
    for logger in loggers:
        if logger.name != "django.db.backends":
            logger.setLevel(logging.DEBUG)
    try:
        yield LogOutput(list(streams.values()))
    finally:
        for logger, level in levels.items():
            logger.setLevel(level)
        for handler, stream in previous.items():
            handler.setStream(stream)
