"""Realistic, reproducible demo data, written in bulk (`manage.py demo_data`).

Everything, ids included, comes from `random.Random` streams seeded from the
seed, so the same seed and the same `today` give the same rows. Each table
has its own stream, so asking for more usages never changes the orders.

Rows are produced in chunks as plain tuples and written by a CopyWriter:
one COPY per table per chunk (psycopg 3).
"""

import json
import random
import uuid
from bisect import bisect
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate, product

from django.db import connection, models

from core.masking import mask
from orders.models import (
    SHIPPING_ADDRESS_FIELDS,
    LegalHold,
    Order,
    OrderAddress,
    OrderCustomAttribute,
    OrderItem,
    OrderStatus,
    PaymentStatus,
    ShippingStatus,
    statuses_allow_anonymization,
)
from promotions.models import CodeUsage, Promotion, PromotionCode

# Every (status, payment, shipping) EPCC allows: the first orders walk through
# all of them, so even a small demo shows each combination at least once.
ALL_COMBINATIONS = tuple(product(OrderStatus.values, PaymentStatus.values, ShippingStatus.values))

# What a shop's order book looks like: mostly delivered, some in flight, a few
# cancelled or refunded. The last weight spreads over every combination.
TYPICAL_COMBINATIONS = (
    (("complete", "paid", "fulfilled"), 62),
    (("complete", "paid", "unfulfilled"), 8),
    (("processing", "paid", "unfulfilled"), 6),
    (("cancelled", "refunded", "unfulfilled"), 5),
    (("cancelled", "unpaid", "unfulfilled"), 4),
    (("incomplete", "unpaid", "unfulfilled"), 4),
    (("complete", "refunded", "fulfilled"), 3),
    (("processing", "authorized", "unfulfilled"), 3),
    (("complete", "partially_paid", "unfulfilled"), 2),
    (None, 3),
)

YEARS_OF_HISTORY = 3
SHARE_ANONYMIZED_ORDERS = 0.05  # of the orders whose statuses allow it
SHARE_HELD_ORDERS = 0.02
SHARE_ANONYMIZED_USAGES = 0.03
SHARE_USAGES_OF_MIRRORED_ORDERS = 0.3
# 13 of every 25 usages (52%) are of one code: a million usages give 520,000.
POPULAR_CODE_SHARE = (13, 25)
POPULAR_PROMOTION = "Black Friday Mega Deal"
POPULAR_CODE = "BLACKFRIDAY"

FIRST_NAMES = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Dennis",
    "Radia",
    "Frances",
    "John",
    "Katherine",
    "Tim",
    "Linus",
    "Guido",
    "Hedy",
    "Annie",
    "Claude",
    "Sophie",
    "Niklaus",
    "Shafi",
    "Leslie",
    "Yukihiro",
    "Bjarne",
    "Anita",
    "Jean",
    "Ravi",
    "Mei",
    "Amara",
    "Lucia",
    "Mateo",
    "Ingrid",
    "Oluwaseun",
    "Kenji",
    "Priya",
    "Tomasz",
    "Aoife",
    "Sven",
    "Fatima",
]
LAST_NAMES = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Ritchie",
    "Perlman",
    "Allen",
    "Backus",
    "Johnson",
    "Berners-Lee",
    "Torvalds",
    "Rossum",
    "Lamarr",
    "Easley",
    "Shannon",
    "Wilson",
    "Wirth",
    "Goldwasser",
    "Lamport",
    "Matsumoto",
    "Stroustrup",
    "Borg",
    "Sammet",
    "Kannan",
    "Zhang",
    "Okafor",
    "Rossi",
    "Garcia",
    "Larsen",
    "Adeyemi",
    "Sato",
    "Iyer",
    "Nowak",
    "Murphy",
    "Berg",
    "Haddad",
]
DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "shop.example")
CITIES = (
    ("London", "Greater London", "England", "GB", "NW1 {n}AA"),
    ("Manchester", "Greater Manchester", "England", "GB", "M{n} 4BT"),
    ("Edinburgh", "", "Scotland", "GB", "EH{n} 1YZ"),
    ("Dublin", "County Dublin", "Leinster", "IE", "D0{n} X2Y3"),
    ("Berlin", "", "Berlin", "DE", "10{n}15"),
    ("Paris", "", "Ile-de-France", "FR", "750{n}"),
    ("New York", "New York County", "NY", "US", "100{n}"),
    ("Austin", "Travis County", "TX", "US", "787{n}"),
    ("Toronto", "", "ON", "CA", "M5V {n}A1"),
    ("Sydney", "", "NSW", "AU", "20{n}0"),
)
STREETS = ("High Street", "Station Road", "Church Lane", "Market Square", "Mill Road", "Park Avenue")
INSTRUCTIONS = ("", "Leave with the neighbour", "Ring twice", "Safe place: porch", "Call on arrival")
CURRENCIES = ("GBP", "GBP", "USD", "USD", "EUR")
PRODUCTS = (
    ("Linen shirt", "SHIRT-LIN", 3500),
    ("Wool scarf", "SCARF-WOOL", 2400),
    ("Leather boots", "BOOT-LEA", 12900),
    ("Canvas tote", "TOTE-CAN", 1500),
    ("Rain jacket", "JACKET-RAIN", 8900),
    ("Cotton socks (3 pack)", "SOCKS-3", 1200),
    ("Denim jeans", "JEANS-DEN", 6500),
    ("Silk tie", "TIE-SILK", 4200),
)
HOLD_REASONS = ("Chargeback window", "Tax retention", "Fraud investigation", "Litigation hold")
PROMOTIONS = (
    ("Summer Sale", ("SUMMER10", "SUMMER20", "SUNSHINE")),
    ("Welcome Offer", ("WELCOME10", "HELLO5")),
    ("Winter Clearance", ("WINTER25", "SNOW15", "FROSTY")),
    ("Spring Refresh", ("SPRING10", "BLOOM")),
    ("Loyalty Rewards", ("LOYAL5", "LOYAL10", "VIP20", "GOLD")),
    ("Free Shipping Week", ("SHIPFREE",)),
    ("Back to School", ("SCHOOL15", "WELCOME10")),  # WELCOME10 again: codes are unique per promotion only
    ("Cyber Monday", ("CYBER30", "CYBER20")),
    ("Birthday Treat", ("BDAY15",)),
    ("Newsletter Signup", ("NEWS10", "INBOX5")),
)


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    name: str
    email: str
    account_id: uuid.UUID | None


@dataclass(frozen=True)
class MirroredOrder:
    """What a usage needs to know about an order it was used on."""

    id: uuid.UUID
    customer: Customer
    created_at: datetime
    anonymized: bool


@dataclass
class Chunk:
    """Rows for each table, in insertion order."""

    rows: dict[type[models.Model], list[tuple]] = field(default_factory=dict)

    def add(self, model, row: tuple) -> None:
        self.rows.setdefault(model, []).append(row)


# Columns written per model, in the order the generator builds its tuples.
COLUMNS = {
    Promotion: ("id", "name", "created_at"),
    PromotionCode: ("id", "promotion", "code", "created_at"),
    Order: (
        "id",
        "status",
        "payment",
        "shipping",
        "anonymized",
        "customer_id",
        "account_id",
        "customer_name",
        "customer_email",
        "contact_name",
        "contact_email",
        "currency",
        "with_tax",
        "without_tax",
        "tax",
        "discount",
        "balance_owing",
        "paid",
        "authorized",
        "without_discount",
        "created_at",
        "updated_at",
    ),
    OrderAddress: ("order", "kind", *SHIPPING_ADDRESS_FIELDS),
    OrderCustomAttribute: ("order", "name", "type", "value"),
    OrderItem: (
        "id",
        "order",
        "position",
        "product_id",
        "name",
        "sku",
        "quantity",
        "unit_amount",
        "currency",
    ),
    LegalHold: ("id", "order", "reason", "ends_on", "created_at", "released_at"),
    CodeUsage: (
        "id",
        "promotion",
        "promotion_code",
        "code",
        "order_id",
        "times_used",
        "used_on",
        "customer_id",
        "customer_email",
        "account_id",
        "anonymized",
        "updated_by",
        "updated_at",
    ),
}


# --- Writing rows -------------------------------------------------------------


class CopyWriter:
    """Writes tuples shaped like COLUMNS[model] into the model's table.

    COPY ... FROM STDIN, the fastest way in.

    Holds the raw psycopg connection of the caller's transaction, so a helper
    thread may write while the caller generates the next chunk (Django's
    connection object is per thread; the psycopg connection is thread-safe).
    """

    def __init__(self):
        connection.ensure_connection()
        self.raw = connection.connection
        quote = connection.ops.quote_name
        self.statements, self.json_columns = {}, {}
        for model, names in COLUMNS.items():
            fields = [model._meta.get_field(name) for name in names]
            columns = ", ".join(quote(f.column) for f in fields)
            self.statements[model] = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
            self.json_columns[model] = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]

    def write(self, model, rows):
        if not rows:
            return
        json_columns = self.json_columns[model]
        with self.raw.cursor() as cursor, cursor.copy(self.statements[model]) as copy:
            for row in rows:
                if json_columns:
                    row = list(row)
                    for i in json_columns:
                        row[i] = json.dumps(row[i])
                copy.write_row(row)


# --- Generating rows ----------------------------------------------------------


class DemoRandom(random.Random):
    """A seeded stream whose picks cost one random() each.

    Random's own choice and randrange draw bits until they are unbiased, which
    dominated the profile; a bias below 2**-40 does not matter for demo data.
    """

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randrange(self, start, stop=None):
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))


# The version (4) and variant (RFC 4122) bits of a UUID.
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID_SET = (0x4000 << 64) | (0x8000 << 48)


def seeded_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded stream (uuid4() would not repeat)."""
    return uuid.UUID(int=(rng.getrandbits(128) & _UUID_CLEAR) | _UUID_SET)


class DemoData:
    """The demo data set for one seed: customers shared by orders and usages,
    orders with addresses, custom attributes, items and some legal holds,
    promotions with codes (one very popular), and usages spread over time.
    """

    def __init__(self, *, orders: int, usages: int, seed: int = 1, today: date | None = None):
        self.order_count = orders
        self.usage_count = usages
        self.seed = seed
        self.today = today or datetime.now(UTC).date()
        self.end = datetime.combine(self.today, time(), tzinfo=UTC)
        self.start = self.end - timedelta(days=365 * YEARS_OF_HISTORY)
        self.span_seconds = int((self.end - self.start).total_seconds())
        self.mask = mask()
        # Orders pick from the first customers only, so the orders do not depend
        # on how many usages (and so customers) are asked for.
        self.customers = self._customers()
        self.order_customers = self.customers[: max(20, self.order_count // 3)]
        self.mirrored: list[MirroredOrder] = []
        self._addresses: dict[tuple, list] = {}
        self._combination_choices, weights = zip(*TYPICAL_COMBINATIONS, strict=True)
        self._combination_cumulative = list(accumulate(weights))

    def stream(self, name: str) -> random.Random:
        return DemoRandom(f"{self.seed}:{name}")

    # Customers -------------------------------------------------------------

    def _customers(self) -> list[Customer]:
        rng = self.stream("customers")
        count = max(20, self.order_count // 3 + self.usage_count // 10)
        customers = []
        for n in range(count):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}{n}@{rng.choice(DOMAINS)}".lower()
            account_id = seeded_uuid(rng) if rng.random() < 0.2 else None
            customers.append(Customer(seeded_uuid(rng), f"{first} {last}", email, account_id))
        return customers

    # Orders ----------------------------------------------------------------

    def order_chunks(self, size: int = 5000) -> Iterator[Chunk]:
        """Orders with their addresses, attributes, items and holds, `size` orders a chunk."""
        rng = self.stream("orders")
        products = [(seeded_uuid(rng), *product) for product in PRODUCTS]
        chunk = Chunk()
        for index in range(self.order_count):
            self._order(rng, index, products, chunk)
            if (index + 1) % size == 0:
                yield chunk
                chunk = Chunk()
        if chunk.rows:
            yield chunk

    def _combination(self, rng, index):
        if index < len(ALL_COMBINATIONS):
            return ALL_COMBINATIONS[index]
        choice = self._combination_choices[
            bisect(self._combination_cumulative, rng.random() * self._combination_cumulative[-1])
        ]
        return choice or rng.choice(ALL_COMBINATIONS)

    def _order(self, rng, index, products, chunk: Chunk) -> None:
        status, payment, shipping = self._combination(rng, index)
        eligible = statuses_allow_anonymization(status=status, payment=payment, shipping=shipping)
        anonymized = eligible and rng.random() < SHARE_ANONYMIZED_ORDERS
        held = not anonymized and rng.random() < SHARE_HELD_ORDERS
        customer = rng.choice(self.order_customers)
        order_id = seeded_uuid(rng)
        created_at = self.start + timedelta(seconds=rng.randrange(self.span_seconds))
        updated_at = created_at + timedelta(minutes=rng.randrange(1, 60 * 24 * 14))
        currency = rng.choice(CURRENCIES)

        # Items first: the order's money adds up from them.
        without_tax = 0
        for position in range(rng.randint(1, 4)):
            product_id, name, sku, price = rng.choice(products)
            quantity = rng.choice((1, 1, 1, 2, 3))
            without_tax += price * quantity
            chunk.add(
                OrderItem,
                (seeded_uuid(rng), order_id, position, product_id, name, sku, quantity, price, currency),
            )
        discount = rng.choice((0, 0, 0, without_tax // 10))
        tax = (without_tax - discount) // 5
        with_tax = without_tax - discount + tax
        paid = (
            with_tax
            if payment in {"paid", "refunded"}
            else with_tax // 2
            if payment == "partially_paid"
            else 0
        )
        authorized = with_tax if payment in {"authorized", "paid"} else 0
        if payment == "partially_authorized":
            authorized = with_tax // 2

        gift = rng.random() < 0.1
        contact = rng.choice(self.order_customers) if gift else customer
        values = {
            "customer_name": customer.name,
            "customer_email": customer.email,
            "contact_name": contact.name,
            "contact_email": contact.email,
        }
        if anonymized:
            values = dict.fromkeys(values, self.mask)
        chunk.add(
            Order,
            (
                order_id,
                status,
                payment,
                shipping,
                anonymized,
                customer.id,
                customer.account_id,
                values["customer_name"],
                values["customer_email"],
                values["contact_name"],
                values["contact_email"],
                currency,
                with_tax,
                without_tax,
                tax,
                discount,
                with_tax - paid,
                paid,
                authorized,
                without_tax,
                created_at,
                updated_at,
            ),
        )
        recipient = contact if gift else customer
        for kind, person in (("shipping", recipient), ("billing", customer)):
            chunk.add(OrderAddress, self._address(rng, order_id, kind, person, anonymized))
        for name, kind, value in self._attributes(rng, customer):
            chunk.add(
                OrderCustomAttribute,
                (order_id, name, kind, self.mask if anonymized and value not in (None, "") else value),
            )
        if held:
            chunk.add(LegalHold, self._hold(rng, order_id, created_at))
        self.mirrored.append(MirroredOrder(order_id, customer, created_at, anonymized))

    def _address(self, rng, order_id, kind, person: Customer, anonymized: bool) -> tuple:
        values = self._addresses.get((person.id, kind))
        if values is None:
            # A person ships to and is billed at the same place order after order.
            values = self._addresses[person.id, kind] = self._new_address(rng, kind, person)
        if anonymized:
            values = [self.mask if value else value for value in values]
        return (order_id, kind, *values)

    def _new_address(self, rng, kind, person: Customer) -> list:
        first, _, last = person.name.partition(" ")
        city, county, region, country, postcode = rng.choice(CITIES)
        n = rng.randint(1, 9)
        return [
            first,
            last,
            f"+44 20 7946 {rng.randrange(10000):04d}" if kind == "shipping" else None,
            rng.choice(("", "", "", f"{last} & Co")),
            f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
            rng.choice(("", "", f"Flat {n}")),
            city,
            postcode.format(n=n),
            county,
            region,
            country,
            rng.choice(INSTRUCTIONS) if kind == "shipping" else None,
        ]

    def _attributes(self, rng, customer: Customer) -> list[tuple]:
        first = customer.name.partition(" ")[0]
        attributes = [("gift_message", "string", rng.choice(("", f"Happy birthday, {first}!", "Enjoy!")))]
        if rng.random() < 0.5:
            attributes.append(("loyalty_number", "integer", rng.randrange(10**7, 10**8)))
        if rng.random() < 0.3:
            attributes.append(("newsletter_opt_in", "boolean", rng.random() < 0.5))
        if rng.random() < 0.2:
            attributes.append(("preferences", "object", {"size": rng.choice("SML"), "fit": "regular"}))
        return attributes

    def _hold(self, rng, order_id, created_at) -> tuple:
        placed = min(created_at + timedelta(days=rng.randint(1, 60)), self.end)
        roll = rng.random()
        if roll < 0.4:
            ends_on = None  # until released
        elif roll < 0.85:
            ends_on = self.today + timedelta(days=rng.randint(1, 365))
        else:
            ends_on = self.today - timedelta(days=rng.randint(1, 90))  # expired: no longer in force
        released_at = placed + timedelta(days=1) if rng.random() < 0.1 else None
        return (seeded_uuid(rng), order_id, rng.choice(HOLD_REASONS), ends_on, placed, released_at)

    # Promotions and usages -------------------------------------------------

    def promotions(self) -> tuple[Chunk, list[tuple], tuple]:
        """Promotions and codes; returns them with the codes usages pick from and the popular one.

        A code entry is (promotion_id, code_id, code, window_start_seconds, window_seconds).
        """
        rng = self.stream("promotions")
        chunk = Chunk()
        codes = []
        popular = None
        for name, code_names in ((POPULAR_PROMOTION, (POPULAR_CODE, "BF2024")), *PROMOTIONS):
            promotion_id = seeded_uuid(rng)
            # A promotion runs for a while; its usages fall inside that window.
            window = rng.randint(30, 365) * 86400
            window_start = rng.randrange(max(1, self.span_seconds - window))
            created_at = self.start + timedelta(seconds=window_start)
            chunk.add(Promotion, (promotion_id, name, created_at))
            for code in code_names:
                code_id = seeded_uuid(rng)
                chunk.add(PromotionCode, (code_id, promotion_id, code, created_at))
                entry = (promotion_id, code_id, code, window_start, window)
                if code == POPULAR_CODE:
                    # The popular code runs all the time, so a date range finds many.
                    popular = (promotion_id, code_id, code, 0, self.span_seconds)
                else:
                    codes.append(entry)
        return chunk, codes, popular

    def usage_chunks(self, codes: list[tuple], popular: tuple, size: int = 20000) -> Iterator[Chunk]:
        rng = self.stream("usages")
        share, every = POPULAR_CODE_SHARE
        # Some codes are far more used than others.
        cumulative = list(accumulate(1.0 / (rank + 1) for rank in range(len(codes))))
        chunk = Chunk()
        start = self.start
        for index in range(self.usage_count):
            if index % every < share:
                promotion_id, code_id, code, window_start, window = popular
            else:
                promotion_id, code_id, code, window_start, window = codes[
                    bisect(cumulative, rng.random() * cumulative[-1])
                ]
            if self.mirrored and rng.random() < SHARE_USAGES_OF_MIRRORED_ORDERS:
                order = rng.choice(self.mirrored)
                customer, order_id, anonymized = order.customer, order.id, order.anonymized
                used_on = order.created_at
            else:
                customer, order_id, anonymized = rng.choice(self.customers), seeded_uuid(rng), False
                used_on = start + timedelta(seconds=window_start + rng.randrange(window))
            anonymized = anonymized or rng.random() < SHARE_ANONYMIZED_USAGES
            updated_at = used_on + timedelta(seconds=rng.randrange(3600))
            entered = code.lower() if rng.random() < 0.15 else code
            email = customer.email.upper() if rng.random() < 0.05 else customer.email
            chunk.add(
                CodeUsage,
                (
                    seeded_uuid(rng),
                    promotion_id,
                    code_id,
                    entered,
                    order_id,
                    rng.choice((1, 1, 1, 1, 2)),
                    used_on,
                    customer.id,
                    self.mask if anonymized else email,
                    customer.account_id,
                    anonymized,
                    "demo_data" if anonymized else None,
                    updated_at,
                ),
            )
            if (index + 1) % size == 0:
                yield chunk
                chunk = Chunk()
        if chunk.rows:
            yield chunk


# --- Loading ------------------------------------------------------------------

DEMO_MODELS = (
    CodeUsage,
    PromotionCode,
    Promotion,
    LegalHold,
    OrderItem,
    OrderCustomAttribute,
    OrderAddress,
    Order,
)


def demo_tables_empty() -> bool:
    return not any(model.objects.exists() for model in (Order, Promotion, CodeUsage))


def demo_tables_clear() -> None:
    """Empty the tables demo data fills."""
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in DEMO_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables}")  # noqa: S608 (names from models)


def demo_data_load(
    data: DemoData, *, progress: Callable[[str, int, int], None] = lambda table, done, total: None
) -> dict[str, int]:
    """Write the demo data set; returns rows written per model label.

    The caller owns the transaction. The tables are analyzed afterwards, so
    the planner knows their sizes at once.
    """
    writer = CopyWriter()
    counts: dict[str, int] = {}
    rebuild = _indexes_and_constraints_dropped()

    def write(chunk: Chunk):
        for model, rows in chunk.rows.items():
            writer.write(model, rows)
            counts[model._meta.label] = counts.get(model._meta.label, 0) + len(rows)

    # COPY waits on the server with the GIL released: a helper thread writes one
    # chunk while this one generates the next, so both cores work.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None

        def submit(chunk):
            nonlocal pending
            if pending is not None:
                pending.result()  # at most one chunk in flight
            pending = pool.submit(write, chunk)

        for label, model, total, chunks in (
            ("orders", Order, data.order_count, data.order_chunks()),
            ("usages", CodeUsage, data.usage_count, None),
        ):
            if chunks is None:
                promotions, codes, popular = data.promotions()
                submit(promotions)
                chunks = data.usage_chunks(codes, popular)
            for chunk in chunks:
                submit(chunk)
                progress(label, counts.get(model._meta.label, 0), total)
            if pending is not None:
                pending.result()
            progress(label, counts.get(model._meta.label, 0), total)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for definition in rebuild:
            cursor.execute(definition)
        for model in DEMO_MODELS:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
    return counts


def _indexes_and_constraints_dropped() -> list[str]:
    """Drop the demo tables' indexes, unique constraints and foreign keys (not primary keys);
    returns the statements that rebuild them.

    Building an index once over a million rows costs far less than updating
    eight B-trees on every row, and one validating join less than a deferred
    check per row at commit. Rebuilding checks every
    constraint again, and the caller's transaction makes it all or nothing.
    """
    tables = [model._meta.db_table for model in DEMO_MODELS]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
            WHERE c.contype IN ('f', 'u') AND c.conrelid::regclass::text = ANY(%s)
            ORDER BY c.contype = 'f' DESC
            """,
            [tables],
        )
        constraints = cursor.fetchall()
        for table, name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    # Unique constraints before the foreign keys that may rely on them.
    return [definition for _, definition in indexes] + [
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        for table, name, definition in reversed(constraints)
    ]
