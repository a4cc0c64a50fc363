"""What the privacy rules share: API keys, erasure requests and the audit trail.

None of these models ever holds a personal value of a data subject.
"""

import calendar
import secrets
import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class Interface(models.TextChoices):
    API = "api", "API"
    ADMIN = "admin", "Admin"
    WEB = "web", "Privacy pages"
    COMMAND = "command", "Command"


class RecordType(models.TextChoices):
    ORDER = "order", "Order"
    CODE_USAGE = "code_usage", "Code usage"


class AuditAction(models.TextChoices):
    ANONYMIZE = "anonymize", "Anonymized"
    HOLD_PLACED = "hold_placed", "Legal hold placed"
    HOLD_RELEASED = "hold_released", "Legal hold released"


def new_key_id() -> int:
    # A 63-bit public number, shown as "Key-<id>" like EPCC's updated_by.
    return secrets.randbelow(2**63 - 10**18) + 10**18


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiKey(models.Model):
    """A Bearer credential acting as its user. Only a hash of the secret is kept."""

    key_id = models.BigIntegerField(unique=True, default=new_key_id, editable=False)
    name = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    secret_hash = models.CharField(max_length=128, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.label} ({self.name})"

    @property
    def label(self) -> str:
        return f"Key-{self.key_id}"


class AccessToken(models.Model):
    """A short-lived token issued by POST /oauth/access_token for an API key."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="access_tokens")
    token_hash = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self):
        return f"Access token of {self.api_key.label}"


def add_months(day, months: int):
    """The same day `months` calendar months later, or that month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


# GDPR Art. 12(3): answer within one month of receipt, extendable by two further months.
ERASURE_DUE_MONTHS = 1
ERASURE_EXTENSION_MAX_MONTHS = 2


class ErasureRequestStatus(models.TextChoices):
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


# A request in one of these statuses is closed: nothing more is done for it.
ERASURE_REQUEST_CLOSED = frozenset(
    {ErasureRequestStatus.COMPLETED, ErasureRequestStatus.REJECTED, ErasureRequestStatus.CANCELLED}
)


class SubjectResourceType(models.TextChoices):
    """What identifies the subject of an erasure request (EPCC's resource types, plus an email)."""

    CUSTOMER = "customer", "Customer id"
    ACCOUNT = "account", "Account id"
    ORDER = "order", "Order id"
    CODE_USAGE = "code_usage", "Code usage id"
    EMAIL = "email", "Email"


class ErasureRequestQuerySet(models.QuerySet):
    def not_closed(self):
        return self.exclude(status__in=ERASURE_REQUEST_CLOSED)

    def overdue(self, today=None):
        """Not closed and past its due date (the extended one, when extended)."""
        today = today or timezone.localdate()
        return self.not_closed().filter(
            models.Q(extended_due_on__isnull=True, due_on__lt=today) | models.Q(extended_due_on__lt=today)
        )


class ErasureRequest(models.Model):
    """A data subject's erasure request: the privacy officer's case file (erasure/ has its rules).

    Never holds who the subject is: `subject_key` is a keyed hash
    (HMAC-SHA256 under PRIVACY_SUBJECT_KEY) of the normalized identifier, and
    `resource_id` keeps the identifier only when it is an id, never an email.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=200, help_text="A ticket or short reason; never a name or email.")
    subject_key = models.CharField(max_length=64, blank=True, default="", db_index=True)
    resource_type = models.CharField(
        max_length=20, choices=SubjectResourceType.choices, blank=True, default=""
    )
    resource_id = models.CharField(max_length=64, blank=True, default="", help_text="Blank for an email.")
    received_on = models.DateField(default=timezone.localdate)
    due_on = models.DateField(help_text="Received + one calendar month (GDPR Art. 12(3)).")
    extension_months = models.PositiveSmallIntegerField(null=True, blank=True)
    extension_reason = models.TextField(blank=True, default="")
    extended_due_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ErasureRequestStatus.choices, default=ErasureRequestStatus.OPEN, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="erasure_requests"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(blank=True, default="")

    objects = ErasureRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Erasure request {self.reference}"

    def save(self, *args, **kwargs):
        if self.due_on is None:
            self.due_on = add_months(self.received_on, ERASURE_DUE_MONTHS)
        super().save(*args, **kwargs)

    @property
    def due(self):
        """The date it must be answered by: the extended due date when extended."""
        return self.extended_due_on or self.due_on

    @property
    def closed(self) -> bool:
        return self.status in ERASURE_REQUEST_CLOSED

    def is_overdue(self, today=None) -> bool:
        return not self.closed and self.due < (today or timezone.localdate())


class AuditRecord(models.Model):
    """One change to one record: who, when, through which interface, which fields.

    Field names only, never their values.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices, default=AuditAction.ANONYMIZE)
    actor = models.CharField(max_length=150, help_text="Username or API key id (Key-...).")
    # No database constraint on the two actor links: PostgreSQL checks a deferred
    # foreign key row by row at COMMIT, and those checks were most of the commit of
    # a batch (docs/performance.md has the figures). Django still
    # writes them from the actor it was given, and deleting a user or a key still
    # clears them (on_delete runs in Django); `actor` keeps the name either way.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # a partial index below
    )
    actor_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        db_index=False,  # a partial index below
    )
    interface = models.CharField(max_length=10, choices=Interface.choices)
    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    record_id = models.UUIDField()
    fields = models.JSONField(default=list, blank=True)
    batch_id = models.UUIDField(default=uuid.uuid4)
    # Why, in staff's words (a legal hold's release reason); never a personal value.
    note = models.CharField(max_length=255, blank=True, default="")
    erasure_request = models.ForeignKey(
        ErasureRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_records",
        db_index=False,  # a partial index below
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="audit_record_idx"),
            models.Index(fields=["actor", "at"], name="audit_actor_idx"),
            # The audit trail filtered by batch (a job's page links each chunk's batch).
            models.Index(fields=["batch_id"], name="audit_batch_idx"),
            # The three links are empty on most records (a person has no key, a
            # command neither, few batches answer an erasure request): partial
            # indexes skip those records, one index entry fewer per record written.
            *(
                models.Index(
                    fields=[link], name=f"audit_{link}_idx", condition=models.Q(**{f"{link}__isnull": False})
                )
                for link in ("actor_user", "actor_key", "erasure_request")
            ),
        ]

    def __str__(self):
        # "Anonymized: code usage 1b2c…, by officer (Admin)": the choices' labels, as people read them.
        return (
            f"{self.get_action_display()}: {self.get_record_type_display().lower()} {self.record_id}, "
            f"by {self.actor} ({self.get_interface_display()})"
        )


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# A job in one of these statuses will not run again (a failed one may be retried by hand).
JOB_FINISHED = frozenset({JobStatus.DONE, JobStatus.FAILED, JobStatus.CANCELLED})


class Job(models.Model):
    """A piece of big work run by a worker, chunk by chunk (core/jobs.py).

    `kind` names a registered job kind; `params` holds what it needs (never a
    personal value: ids and cut-off dates). `total` and `done` count records.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(null=True, blank=True, help_text="Unknown until the job is planned.")
    done = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.CharField(max_length=150, help_text="Who started it, as the audit records name them.")
    interface = models.CharField(max_length=10, choices=Interface.choices)
    params = models.JSONField(default=dict, blank=True)
    chunk_size = models.PositiveIntegerField()
    planned = models.BooleanField(default=False, help_text="Its chunks are written.")
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status not in JOB_FINISHED


class JobChunk(models.Model):
    """The ids of one chunk of a job, and what became of them once done.

    A chunk's work and the row marking it done commit in one transaction: a
    job that stops anywhere resumes from its first chunk not done.
    """

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    ids = ArrayField(models.UUIDField())
    done_at = models.DateTimeField(null=True, blank=True)
    batch_id = models.UUIDField(null=True, blank=True, help_text="The audit batch its records share.")
    count = models.PositiveIntegerField(default=0, help_text="Records changed.")
    unchanged = models.PositiveIntegerField(default=0, help_text="Records already as wanted.")
    refused = models.PositiveIntegerField(default=0, help_text="Records left out (changed since planning).")

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="job_chunk_number_unique")]

    def __str__(self):
        return f"Chunk {self.number} of job {self.job_id}"


class UpstreamState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed upstream"


class UpstreamPush(models.Model):
    """The outbox: one anonymization made here, to be sent to the EPCC store (the connector).

    Written with the audit records of the anonymization, in its transaction,
    when a store is configured (core.audit); the connector's push job sends the
    pending ones and records what the store answered. `error` holds the store's
    error (EPCC's title and detail, which name ids and statuses) or why the last
    attempt did not reach it; never a personal value, since only ids are sent.
    """

    record_type = models.CharField(max_length=20, choices=RecordType.choices)
    record_id = models.UUIDField()
    batch_id = models.UUIDField(help_text="The audit batch of the anonymization.")
    state = models.CharField(max_length=10, choices=UpstreamState.choices, default=UpstreamState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "upstream push"
        verbose_name_plural = "upstream pushes"
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="upstream_record_idx"),
            # What the push job reads: the pending rows that are due, oldest first.
            models.Index(
                fields=["record_type", "next_attempt_at", "id"],
                name="upstream_pending_idx",
                condition=models.Q(state="pending"),
            ),
        ]

    def __str__(self):
        return f"Push of {self.record_type} {self.record_id} ({self.state})"


class ThrottleCount(models.Model):
    """One API client's requests in its current rate window (core/throttling.py).

    The table is unlogged (migration 0012): a count's write waits for no WAL flush,
    and a crash only empties it.
    """

    key = models.CharField(max_length=64, primary_key=True, help_text="SHA-256 of the scope and the client.")
    window_end = models.DateTimeField(help_text="When the window ends and the count starts again.")
    count = models.PositiveIntegerField(help_text="Requests in the window (at most the limit + 1).")

    def __str__(self):
        return f"{self.key}: {self.count} until {self.window_end}"
