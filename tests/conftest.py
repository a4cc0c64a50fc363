"""Factory fixtures shared by every test: a test reads as given / when / then."""

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group

from core.audit import Actor
from orders.models import AddressKind, Order, OrderAddress, OrderCustomAttribute, OrderItem
from promotions.models import CodeUsage, Promotion, PromotionCode

# Shared fixtures, available to every test wherever it lives (tests/README.md).
pytest_plugins = [
    "tests.plugins.browser",
    "tests.plugins.concurrency_faults_logs",
    "tests.plugins.job_workers",
    "tests.plugins.js_sdk",
]

_counter = itertools.count(1)


def _address_values(kind: str, n: int) -> dict:
    values = {
        "first_name": f"Ada{n}",
        "last_name": f"Lovelace{n}",
        "company_name": f"Analytical Engines {n} Ltd",
        "line_1": f"{n} Byron Street",
        "line_2": "Flat 2",
        "city": "London",
        "postcode": f"NW1 {n}AA",
        "county": "Greater London",
        "region": "England",
        "country": "GB",
    }
    if kind == AddressKind.SHIPPING:
        values |= {"phone_number": f"+44 20 7946 {n:04d}", "instructions": "Leave with the neighbour"}
    return values


@pytest.fixture
def make_order(db):
    """make_order(**overrides) -> Order with two addresses, a custom attribute and items.

    Defaults to an eligible order (fulfilled); pass status/payment/shipping to change it.
    Pass `addresses=False`, `attributes={}` or `items=0` to leave those out.
    """

    def make(*, addresses=True, attributes=None, items=2, **overrides):
        n = next(_counter)
        values = {
            "status": "complete",
            "payment": "paid",
            "shipping": "fulfilled",
            "customer_id": uuid.uuid4(),
            "customer_name": f"Ada Lovelace {n}",
            "customer_email": f"ada{n}@example.com",
            "contact_name": f"Ada Contact {n}",
            "contact_email": f"ada.contact{n}@example.com",
            "currency": "GBP",
            "with_tax": 12000,
            "without_tax": 10000,
            "tax": 2000,
            "paid": 12000,
            "created_at": datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=n),
            "updated_at": datetime(2024, 1, 2, tzinfo=UTC) + timedelta(hours=n),
        } | overrides
        order = Order.objects.create(**values)
        if addresses:
            for kind in AddressKind.values:
                OrderAddress.objects.create(order=order, kind=kind, **_address_values(kind, n))
        if attributes is None:
            attributes = {"gift_message": f"Happy birthday, Ada {n}!"}
        for name, value in attributes.items():
            OrderCustomAttribute.objects.create(order=order, name=name, type="string", value=value)
        for position in range(items):
            OrderItem.objects.create(order=order, position=position, name=f"Item {position}", quantity=1)
        return order

    return make


@pytest.fixture
def make_promotion(db):
    def make(*, name=None, codes=("SUMMER10",)):
        promotion = Promotion.objects.create(name=name or f"Promotion {next(_counter)}")
        for code in codes:
            PromotionCode.objects.create(promotion=promotion, code=code)
        return promotion

    return make


@pytest.fixture
def make_usage(db, make_promotion):
    """make_usage(**overrides) -> CodeUsage of code SUMMER10 of a new promotion, unless given."""

    def make(*, promotion=None, code="SUMMER10", **overrides):
        promotion = promotion or make_promotion(codes=())
        promotion_code, _ = PromotionCode.objects.get_or_create(
            promotion=promotion, code__iexact=code, defaults={"code": code}
        )
        n = next(_counter)
        values = {
            "promotion": promotion,
            "promotion_code": promotion_code,
            "code": code,
            "order_id": uuid.uuid4(),
            "used_on": datetime(2024, 8, 15, tzinfo=UTC) + timedelta(minutes=n),
            "customer_id": uuid.uuid4(),
            "customer_email": f"shopper{n}@example.com",
            "updated_at": datetime(2024, 8, 15, tzinfo=UTC) + timedelta(minutes=n),
        } | overrides
        return CodeUsage.objects.create(**values)

    return make


def privacy_officers_group() -> Group:
    """The group the data migration makes; made again after a transactional test flushed it."""
    import importlib

    from django.contrib.auth.models import Permission

    migration = importlib.import_module("core.migrations.0002_privacy_officers_group")
    group, created = Group.objects.get_or_create(name=migration.GROUP)
    if created:
        for app_label, codename in migration.PERMISSIONS:
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
    return group


@pytest.fixture
def officer(django_user_model):
    """A member of the "Privacy officers" group (view and anonymize), staff for the admin."""
    user = django_user_model.objects.create_user(
        username="officer", password="officer-password-1", is_staff=True
    )
    user.groups.add(privacy_officers_group())
    return user


@pytest.fixture
def viewer(django_user_model):
    """Staff who may view orders and usages but not anonymize them."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(
        username="viewer", password="viewer-password-1", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_order", "view_codeusage", "view_promotion", "view_promotioncode"]
        )
    )
    return user


@pytest.fixture
def actor(officer):
    return Actor.for_user(officer)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Logins in tests need a hash, not a slow one: PBKDF2 made each test's set-up cost a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
