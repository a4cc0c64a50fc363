"""Orders as Elastic Path Commerce Cloud (EPCC) holds them.

A personal field that EPCC did not send is stored as NULL and left out of
the EPCC document again (the serializer never invents a key); an empty
string stays an empty string. Both stay as they are when anonymized.
"""

import uuid
from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import JSONObject, Upper
from django.utils import timezone


class OrderStatus(models.TextChoices):
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    PROCESSING = "processing"
    CANCELLED = "cancelled"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid"
    AUTHORIZED = "authorized"
    PAID = "paid"
    REFUNDED = "refunded"
    PARTIALLY_PAID = "partially_paid"
    PARTIALLY_AUTHORIZED = "partially_authorized"


class ShippingStatus(models.TextChoices):
    UNFULFILLED = "unfulfilled"
    FULFILLED = "fulfilled"


# The anonymization rule as data, next to the choices it speaks of: an order
# may be anonymized when any one of these holds (EPCC: "fulfilled, canceled,
# or fully refunded"; EPCC has no partial-refund payment value).
ANONYMIZABLE_STATUS = frozenset({OrderStatus.CANCELLED})
ANONYMIZABLE_PAYMENT = frozenset({PaymentStatus.REFUNDED})
ANONYMIZABLE_SHIPPING = frozenset({ShippingStatus.FULFILLED})

ANONYMIZABLE = (
    Q(status__in=ANONYMIZABLE_STATUS)
    | Q(payment__in=ANONYMIZABLE_PAYMENT)
    | Q(shipping__in=ANONYMIZABLE_SHIPPING)
)


def statuses_allow_anonymization(*, status: str, payment: str, shipping: str) -> bool:
    """ANONYMIZABLE for statuses not in the database (demo data being generated).

    A test holds it to `Order.objects.with_anonymization_block()` on every combination.
    """
    return (
        status in ANONYMIZABLE_STATUS or payment in ANONYMIZABLE_PAYMENT or shipping in ANONYMIZABLE_SHIPPING
    )


class AnonymizationBlock(models.TextChoices):
    """Why an order may not be anonymized now, asked in this order; NULL when it may.

    An order already anonymized is not refused (anonymizing it again changes
    nothing), but there is nothing left to do to it either.
    """

    ANONYMIZED = "anonymized"
    STATUSES = "statuses"
    LEGAL_HOLD = "legal_hold"


MONEY_FIELDS = (
    "with_tax",
    "without_tax",
    "tax",
    "discount",
    "balance_owing",
    "paid",
    "authorized",
    "without_discount",
)

# Personal fields, by model. privacy.personal_data registers every text field of
# every model as personal or not, and a test fails on an unclassified one.
ORDER_PERSONAL_FIELDS = ("customer_name", "customer_email", "contact_name", "contact_email")
SHIPPING_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "phone_number",
    "company_name",
    "line_1",
    "line_2",
    "city",
    "postcode",
    "county",
    "region",
    "country",
    "instructions",
)
BILLING_ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "line_1",
    "line_2",
    "city",
    "postcode",
    "county",
    "region",
    "country",
)
ADDRESS_PERSONAL_FIELDS = SHIPPING_ADDRESS_FIELDS  # the superset: every address column


def under_hold(today: date | None = None) -> Q:
    """An order with a legal hold in force on `today` (default: today), whatever its statuses.

    An uncorrelated IN, so PostgreSQL hashes the (few) holds in force once
    per statement instead of probing the holds' index once per order.
    """
    return Q(pk__in=LegalHold.objects.active(today).values("order_id"))


def _blocks(today: date | None) -> tuple[tuple[str, Q], ...]:
    """The rule: each reason an order may not be anonymized now, in the order it is asked."""
    return (
        (AnonymizationBlock.ANONYMIZED, Q(anonymized=True)),
        (AnonymizationBlock.STATUSES, ~ANONYMIZABLE),
        (AnonymizationBlock.LEGAL_HOLD, under_hold(today)),
    )


def _longest_hold(today: date | None) -> Subquery:
    """The hold in force that lasts longest (no end first), as {"id", "reason", "ends_on"}."""
    return Subquery(
        LegalHold.objects.active(today)
        .filter(order=OuterRef("pk"))
        .order_by(F("ends_on").desc(nulls_first=True), "-created_at")
        .values(json=JSONObject(id="id", reason="reason", ends_on="ends_on"))[:1]
    )


class OrderQuerySet(models.QuerySet):
    def with_anonymization_block(self, today: date | None = None, *, hold: bool = False):
        """Annotate `anonymization_block`: may the order be anonymized now, and if not, why.

        An AnonymizationBlock value, or NULL when orders_anonymize would change
        the order now: already anonymized, else its statuses (not in
        ANONYMIZABLE), else a legal hold in force on `today`. The service's
        review, the admin's column and counts, the dashboard and the privacy
        pages read it; `blocked_by` is the same rule as a filter.

        With `hold`, also `legal_hold`: the hold in force that lasts longest, as
        {"id", "reason", "ends_on"} (NULL when none), for the refusal's text.
        """
        block = Case(
            *(When(condition, then=Value(block)) for block, condition in _blocks(today)),
            default=None,
            output_field=models.CharField(),
        )
        queryset = self.annotate(anonymization_block=block)
        if hold:
            # Looked up only for the orders under a hold, not for every row.
            queryset = queryset.annotate(legal_hold=Case(When(under_hold(today), then=_longest_hold(today))))
        return queryset

    def blocked_by(self, block: str | None, today: date | None = None):
        """The orders whose anonymization_block would be `block` (None: may be anonymized now).

        The annotation's rule as plain WHERE conditions, so the planner can
        estimate them: filtering on the annotation's CASE it cannot, and walks
        a whole table where an index would stop early. A test holds the two
        forms together.
        """
        earlier = Q()
        for candidate, condition in _blocks(today):
            if candidate == block:
                return self.filter(earlier & condition)
            earlier &= ~condition
        if block is not None:
            raise ValueError(f"not an anonymization block: {block!r}")
        return self.filter(earlier)

    def anonymizable_now(self, today: date | None = None):
        """What orders_anonymize would change now."""
        return self.blocked_by(None, today)

    def under_active_hold(self, today: date | None = None):
        """Orders with a legal hold in force, whatever their statuses."""
        return self.filter(under_hold(today))


def _text(**kwargs):
    return models.CharField(max_length=255, null=True, blank=True, **kwargs)


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=20, choices=OrderStatus.choices)
    payment = models.CharField(max_length=24, choices=PaymentStatus.choices)
    shipping = models.CharField(max_length=20, choices=ShippingStatus.choices)
    anonymized = models.BooleanField(default=False)

    customer_id = models.UUIDField(null=True, blank=True)
    account_id = models.UUIDField(null=True, blank=True)
    customer_name = _text()
    customer_email = _text()
    contact_name = _text()
    contact_email = _text()

    currency = models.CharField(max_length=3, default="USD")
    with_tax = models.BigIntegerField(default=0)
    without_tax = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(default=0)
    balance_owing = models.BigIntegerField(default=0)
    paid = models.BigIntegerField(default=0)
    authorized = models.BigIntegerField(default=0)
    without_discount = models.BigIntegerField(default=0)

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "id"]
        permissions = [("anonymize_order", "Can anonymize orders")]
        indexes = [
            models.Index(Upper("customer_email"), name="order_email_upper_idx"),
            # Find a person and an erasure request match the order's contact email too.
            models.Index(Upper("contact_email"), name="order_contact_email_upper_idx"),
            models.Index(fields=["customer_id"], name="order_customer_idx"),
            models.Index(fields=["account_id"], name="order_account_idx"),
            models.Index(fields=["status", "payment", "shipping"], name="order_status_idx"),
            models.Index(fields=["created_at", "id"], name="order_created_idx"),
            # The connector's walk of a store (filter and sort on updated_at, then id).
            models.Index(fields=["updated_at", "id"], name="order_updated_idx"),
        ]

    def __str__(self):
        # Ids, never people: this string lands in admin history (LogEntry).
        return f"Order {self.pk}"


class AddressKind(models.TextChoices):
    SHIPPING = "shipping"
    BILLING = "billing"


class OrderAddress(models.Model):
    # Indexed by the unique constraint below, which starts with the order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="addresses", db_index=False)
    kind = models.CharField(max_length=10, choices=AddressKind.choices)
    first_name = _text()
    last_name = _text()
    phone_number = _text()
    company_name = _text()
    line_1 = _text()
    line_2 = _text()
    city = _text()
    postcode = _text()
    county = _text()
    region = _text()
    country = _text()
    instructions = _text()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="one_address_per_kind")]

    def __str__(self):
        return f"{self.kind} address of order {self.order_id}"


class OrderCustomAttribute(models.Model):
    # Indexed by the unique constraint below, which starts with the order.
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="custom_attributes", db_index=False
    )
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=50, default="string")
    # Any JSON value, as EPCC sends it; the mask replaces it with a string.
    value = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["order", "name"], name="one_attribute_per_name")]

    def __str__(self):
        return f"custom attribute {self.name} of order {self.order_id}"


class OrderItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by the (order, position, id) index below, not by one of its own.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items", db_index=False)
    position = models.PositiveIntegerField(default=0)
    product_id = models.UUIDField(null=True, blank=True)
    name = models.CharField(max_length=255, blank=True, default="")
    sku = models.CharField(max_length=255, blank=True, default="")
    quantity = models.PositiveIntegerField(default=1)
    unit_amount = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True, default="")

    class Meta:
        ordering = ["order", "position"]
        indexes = [
            # An order's items in document order, read from the index alone (an
            # index-only scan): the orders' EPCC documents list item ids by position,
            # and reading the item rows themselves was a large part of writing the
            # documents just after their orders were anonymized.
            models.Index(fields=["order", "position", "id"], name="orderitem_order_position_idx"),
        ]

    def __str__(self):
        return f"Item {self.pk}"


class LegalHoldQuerySet(models.QuerySet):
    def active(self, today=None):
        """Holds in force today: not released, and not past their end date."""
        today = today or timezone.localdate()
        return self.filter(released_at__isnull=True).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


class LegalHold(models.Model):
    """Beyond EPCC: keeps an order from being anonymized while it lasts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=255)
    ends_on = models.DateField(
        null=True, blank=True, help_text="Last day of the hold; empty means until released."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = LegalHoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["order", "released_at"], name="hold_order_idx")]

    def __str__(self):
        return f"Legal hold {self.pk} on order {self.order_id}"

    @property
    def until(self) -> str:
        return self.ends_on.isoformat() if self.ends_on else "further notice"
