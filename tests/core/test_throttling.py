"""The shared throttle counts (core/throttling.py): one upsert per request, and their pruning.

The API's behaviour (429, Retry-After, who counts as a client) is in tests/epcc/test_api_security.py.
"""

from datetime import timedelta

import pytest
from django.db.models.functions import Now
from procrastinate.contrib.django import app

from core.models import ThrottleCount
from core.tasks import PRUNE_THROTTLE_COUNTS_TASK
from core.throttling import throttle_count, throttle_counts_prune

pytestmark = pytest.mark.django_db


def test_a_count_allows_the_limit_then_refuses_without_growing(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert throttle_count(key="a", limit=2, seconds=60) == (True, 60)
    answers = [throttle_count(key="a", limit=2, seconds=60)[0] for _ in range(4)]
    assert answers == [True, False, False, False]
    assert ThrottleCount.objects.get(pk="a").count == 3
    assert throttle_count(key="b", limit=2, seconds=60)[0]  # another key, its own count


def test_an_ended_window_starts_again_at_one():
    for _ in range(3):
        throttle_count(key="a", limit=2, seconds=60)
    ThrottleCount.objects.update(window_end=Now() - timedelta(seconds=1))
    assert throttle_count(key="a", limit=2, seconds=60) == (True, 60)
    assert ThrottleCount.objects.get(pk="a").count == 1


def test_the_prune_deletes_only_ended_windows():
    throttle_count(key="ended", limit=2, seconds=60)
    throttle_count(key="running", limit=2, seconds=60)
    ThrottleCount.objects.filter(pk="ended").update(window_end=Now() - timedelta(seconds=1))
    assert throttle_counts_prune() == 1
    assert list(ThrottleCount.objects.values_list("pk", flat=True)) == ["running"]


def test_the_prune_is_an_hourly_periodic_task():
    periodic = [
        task
        for task in app.periodic_registry.periodic_tasks.values()
        if task.task.name == PRUNE_THROTTLE_COUNTS_TASK
    ]
    assert [task.cron for task in periodic] == ["17 * * * *"]
