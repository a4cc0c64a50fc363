"""No personal value in logs, error pages or audit records, on every path that touches one.

`all_logs` opens every logger to DEBUG and reads what the project's own
handlers write (LOGGING's filters included); each test runs a path over records
whose personal values are distinctive, then looks for every one of them.
"""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection
from django.test import Client, override_settings

from core.api_keys import api_key_create
from core.audit import Actor
from core.errors import BatchRefused
from core.jobs import job_run
from core.models import AuditRecord, ErasureRequest, Interface, Job, JobChunk
from erasure.models import ErasureRequestItem
from orders.models import Order, OrderAddress
from orders.services import orders_anonymize
from promotions.services import usages_anonymize

ROOT = Path(__file__).resolve().parents[2]
SEED_ORDER = ROOT / "tests" / "fixtures" / "seed_003_order.json"

CUSTOMER = {
    "customer_name": "Quentin Zephyrine",
    "customer_email": "quentin.zephyrine@pii.example",
    "contact_name": "Ottoline Zephyrine",
    "contact_email": "ottoline.zephyrine@pii.example",
}
ADDRESS = {
    "first_name": "Quentinus",
    "last_name": "Zephyrinae",
    "phone_number": "+44 20 7946 0991",
    "company_name": "Zephyr Holdings",
    "line_1": "77 Quillfeather Lane",
    "line_2": "Attic Room Nine",
    "city": "Wibbleton",
    "postcode": "ZZ9 9PL",
    "county": "Mythshire",
    "region": "Nowhere Region",
    "country": "Xanadu",
    "instructions": "Ring twice for Quentin",
}
ATTRIBUTE = "Call Quentin on 07700 900461"
USAGE_EMAIL = "usage.zephyrine@pii.example"
PERSONAL_VALUES = [*CUSTOMER.values(), *ADDRESS.values(), ATTRIBUTE, USAGE_EMAIL]
# A database error message the way PostgreSQL writes one for a NOT NULL or
# CHECK violation: it quotes the whole failing row.
ROW_QUOTING_ERROR = f"null value violates not-null constraint DETAIL: Failing row contains ({USAGE_EMAIL})"


def leaked(text: str, values=PERSONAL_VALUES) -> list[str]:
    """The values found in `text`, as they are or url-encoded (as in a query string)."""
    return [
        value for value in values if any(form in text for form in (value, quote(value), quote_plus(value)))
    ]


@pytest.fixture
def person(make_order, make_usage):
    """An eligible order, an ineligible one and a code usage of one person, every personal field set."""
    eligible = make_order(shipping="fulfilled", attributes={"note": ATTRIBUTE}, **CUSTOMER)
    refused = make_order(
        status="complete", payment="paid", shipping="unfulfilled", attributes={"note": ATTRIBUTE}, **CUSTOMER
    )
    OrderAddress.objects.filter(order__in=[eligible, refused]).update(**ADDRESS)
    usage = make_usage(customer_email=USAGE_EMAIL)
    return eligible, refused, usage


@pytest.fixture
def token(officer):
    _, token = api_key_create(name="pii-guard", user=officer)
    return token


@pytest.fixture
def api(token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)


def everything_stored_about_changes() -> str:
    """Every row the changes leave behind: audit records, admin history, erasure requests and items, jobs."""
    return json.dumps(
        [
            *AuditRecord.objects.values(),
            *LogEntry.objects.values("object_repr", "change_message"),
            *ErasureRequest.objects.values(),
            *ErasureRequestItem.objects.values(),
            *Job.objects.values(),
            *JobChunk.objects.values(),
        ],
        default=str,
    )


# --- The decision about SQL logging ----------------------------------------------------


def test_sql_statements_are_never_logged_with_their_parameters_even_at_debug_level():
    """Django logs each statement with its parameters on django.db.backends at DEBUG."""
    code = (
        "import logging, django; django.setup(); "
        "print('LEVEL', logging.getLogger('django.db.backends').getEffectiveLevel())"
    )
    environment = os.environ | {"DJANGO_LOG_LEVEL": "DEBUG", "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    level = int(result.stdout.split("LEVEL")[1])
    assert level > logging.DEBUG, result.stdout + result.stderr


@pytest.mark.django_db
def test_the_capture_would_see_a_personal_value_if_sql_were_logged(all_logs, make_usage, make_order):
    """Shows the guard can fail: with django.db.backends opened, a personal value is in the log.

    Not the email: the log filter withholds anything shaped like one, wherever it
    comes from, so even then the address itself stays out.
    """
    logging.getLogger("django.db.backends").setLevel(logging.DEBUG)
    try:
        with override_settings(DEBUG=True):
            make_usage(customer_email=USAGE_EMAIL)
            make_order(customer_name="Zephyrine Quillfeather")
    finally:
        logging.getLogger("django.db.backends").setLevel(logging.INFO)
    assert "Zephyrine Quillfeather" in all_logs.text
    assert USAGE_EMAIL not in all_logs.text and "[email withheld]" in all_logs.text


# --- Import ----------------------------------------------------------------------


@pytest.mark.django_db
def test_import_logs_no_personal_value(all_logs, tmp_path):
    document = json.loads(SEED_ORDER.read_text())
    order = document["data"][0]
    seed_values = [
        order["customer"]["email"],
        order["customer"]["name"],
        order["shipping_address"]["line_1"],
        order["billing_address"]["postcode"],
    ]
    good = tmp_path / "orders.json"
    good.write_text(json.dumps(document))
    # The same order with a bad status: the error names the file and the record.
    bad_document = json.loads(json.dumps(document))
    bad_document["data"][0]["status"] = "lost"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(bad_document))
    # A personal value that is itself the fault: the message must name the field, not quote it.
    long_document = json.loads(json.dumps(document))
    long_document["data"][0]["customer"]["name"] = "Zebedee Longname " * 20
    too_long = tmp_path / "too_long.json"
    too_long.write_text(json.dumps(long_document))
    seed_values.append("Zebedee Longname")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document)[:-40])

    with override_settings(DEBUG=True):
        call_command("import_ep", str(good), stdout=io.StringIO(), stderr=io.StringIO())
        errors = []
        for path in (bad, broken, too_long):
            out, err = io.StringIO(), io.StringIO()
            with pytest.raises(CommandError) as raised:
                call_command("import_ep", str(path), stdout=out, stderr=err)
            errors.append(f"{raised.value} {out.getvalue()} {err.getvalue()}")

    assert Order.objects.count() == 1
    assert leaked(all_logs.text, seed_values) == []
    assert leaked(" ".join(errors), seed_values) == [], errors
    assert "bad.json" in errors[0] and "broken.json" in errors[1] and "too_long.json" in errors[2]
    assert "customer.name" in errors[2]


# --- Services --------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymizing_through_the_services_logs_and_stores_no_personal_value(all_logs, person, actor):
    eligible, refused, usage = person
    with override_settings(DEBUG=True):
        orders_anonymize(order_ids=[eligible.pk], actor=actor, via=Interface.COMMAND)
        usages_anonymize(usage_ids=[usage.pk], actor=actor, via=Interface.COMMAND)
        with pytest.raises(BatchRefused) as raised:
            orders_anonymize(order_ids=[refused.pk], actor=actor, via=Interface.COMMAND)

    assert leaked(all_logs.text) == []
    assert leaked(str(raised.value) + repr(raised.value.problems)) == []
    assert AuditRecord.objects.count() == 2
    assert leaked(everything_stored_about_changes()) == []


# --- API -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_api_paths_log_and_answer_no_personal_value(all_logs, person, api, token, debug):
    eligible, refused, usage = person
    email = CUSTOMER["customer_email"]
    answers = []
    with override_settings(DEBUG=debug):
        # 200s
        answers.append(_post(api, "/v2/orders/anonymize", {"data": {"order_ids": [str(eligible.pk)]}}))
        answers.append(
            _post(api, "/v2/rule-promotions/usages/anonymize", {"data": {"usage_ids": [str(usage.pk)]}})
        )
        # 422, 404 (unknown id), 400 (an email where an id belongs), 400 (a filter that does not parse)
        answers.append(_post(api, "/v2/orders/anonymize", {"data": {"order_ids": [str(refused.pk)]}}))
        answers.append(_post(api, "/v2/orders/anonymize", {"data": {"order_ids": [str(usage.pk)]}}))
        answers.append(_post(api, "/v2/orders/anonymize", {"data": {"order_ids": [email]}}))
        answers.append(api.get("/v2/orders", {"filter": f"eq(email,{email}):nonsense"}))
        answers.append(api.get("/v2/orders", {"filter": f"eq(email,{email})"}))  # a 200 carrying the email
        # 401 with the email in the query string, 404 route
        answers.append(Client().get("/v2/orders", {"filter": f"eq(email,{email})"}))
        answers.append(api.get("/v2/nowhere", {"filter": f"eq(email,{email})"}))

    statuses = [answer.status_code for answer in answers]
    assert statuses == [200, 200, 422, 404, 400, 400, 200, 401, 404]
    assert leaked(all_logs.text) == []
    assert token not in all_logs.text
    for answer in answers[2:6] + answers[7:]:  # the errors
        body = answer.content.decode()
        assert leaked(body) == [] and token not in body and "Traceback" not in body
        assert set(json.loads(body)) == {"errors"}
    assert leaked(everything_stored_about_changes()) == []


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_an_api_500_is_an_envelope_that_shows_and_logs_no_personal_value(all_logs, person, api, debug):
    eligible, _, usage = person
    with override_settings(DEBUG=debug), _fault_quoting_a_row('UPDATE "promotions_codeusage"'):
        answer = _post(api, "/v2/rule-promotions/usages/anonymize", {"data": {"usage_ids": [str(usage.pk)]}})

    assert answer.status_code == 500
    body = answer.json()
    assert body == {"errors": [body["errors"][0]]} and body["errors"][0]["status"] == 500
    assert "Traceback" not in answer.content.decode() and "injected" not in answer.content.decode()
    assert leaked(answer.content.decode()) == []
    assert leaked(all_logs.text) == []
    assert "Traceback" in all_logs.text or "Unhandled" in all_logs.text, "the 500 is logged, for operators"
    usage.refresh_from_db()
    assert not usage.anonymized


# --- Pages and admin ---------------------------------------------------------------


@pytest.mark.django_db
def test_privacy_pages_log_no_personal_value_and_keep_query_strings_out_of_request_logs(
    all_logs, person, officer
):
    eligible, refused, usage = person
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    email = CUSTOMER["customer_email"]
    with override_settings(DEBUG=False):
        search = client.get("/privacy/people/", {"q": email})
        preview = client.post("/privacy/erasure/preview/", {"q": email, "reference": "TICKET-1"})
        missing = client.get("/privacy/no-such-page/", {"q": email})
        done = client.post("/privacy/erasure/confirm/", {"q": email, "reference": "TICKET-2"})
        for job in Job.objects.all():
            job_run(job_id=job.pk)
        erasure_request = ErasureRequest.objects.get()
        pages = [
            client.get(f"/privacy/requests/{erasure_request.pk}/"),
            client.get(f"/privacy/requests/{erasure_request.pk}/receipt/"),
            client.get("/privacy/requests/"),
            client.get("/privacy/"),
        ]

    assert [search.status_code, preview.status_code, missing.status_code, done.status_code] == [
        200,
        200,
        404,
        302,
    ]
    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    assert erasure_request.status == "waiting"
    assert "Not Found" in all_logs.text, "the 404 reached the request log"
    assert leaked(all_logs.text) == []
    assert leaked(missing.content.decode()) == []
    for page in pages:
        assert leaked(page.content.decode()) == []
    assert AuditRecord.objects.count() == 1  # the eligible order; the other waits
    assert ErasureRequestItem.objects.count() == 2
    assert leaked(everything_stored_about_changes()) == []


@pytest.mark.django_db
def test_a_page_500_shows_and_logs_no_personal_value_and_no_stack_trace(all_logs, person, officer):
    eligible, _, usage = person
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    with override_settings(DEBUG=False), _fault_quoting_a_row('INSERT INTO "erasure_erasurerequestitem"'):
        answer = client.post(
            "/privacy/erasure/confirm/", {"q": CUSTOMER["customer_email"], "reference": "T-3"}
        )

    assert answer.status_code == 500
    page = answer.content.decode()
    assert "Traceback" not in page and "injected" not in page and leaked(page) == []
    assert "Internal Server Error: /privacy/erasure/confirm/" in all_logs.text
    assert leaked(all_logs.text) == [], "an exception message quoting a row reached the log"
    assert not ErasureRequest.objects.exists()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_an_erasure_job_failing_on_a_row_stores_and_logs_no_personal_value(all_logs, person, officer):
    from erasure.services import erasure_request_create

    erasure_request = erasure_request_create(
        resource_type="email",
        resource_id=CUSTOMER["customer_email"],
        reference="T-4",
        actor=Actor.for_user(officer),
        via=Interface.WEB,
    )
    with _fault_quoting_a_row('UPDATE "orders_order"'):
        job = job_run(job_id=Job.objects.get().pk)

    assert job.status == "failed"
    assert leaked(job.error) == []
    assert leaked(all_logs.text) == []
    assert leaked(everything_stored_about_changes()) == []
    assert ErasureRequest.objects.get().status == "open"
    assert erasure_request.items.filter(state="pending").count() == 2


@pytest.mark.django_db
def test_the_admin_action_logs_and_stores_no_personal_value(all_logs, person, officer):
    eligible, _, usage = person
    client = Client(raise_request_exception=False)
    client.force_login(officer)
    with override_settings(DEBUG=False):
        confirm = client.post(
            "/admin/orders/order/",
            {"action": "anonymize_selected_orders", "_selected_action": [str(eligible.pk)]},
        )
        done = client.post(
            "/admin/orders/order/",
            {
                "action": "anonymize_selected_orders",
                "_selected_action": [str(eligible.pk)],
                "post": "yes",
                "erasure_reference": "T-ADMIN",
            },
        )
        done_usage = client.post(
            "/admin/promotions/codeusage/",
            {
                "action": "anonymize_selected_code_usages",
                "_selected_action": [str(usage.pk)],
                "post": "yes",
                "erasure_reference": "T-ADMIN",
            },
        )
        listing = client.get("/admin/orders/order/", {"q": CUSTOMER["customer_email"]})

    assert [confirm.status_code, done.status_code, done_usage.status_code, listing.status_code] == [
        200,
        302,
        302,
        200,
    ]
    eligible.refresh_from_db()
    assert eligible.anonymized
    assert leaked(all_logs.text) == []
    assert leaked(everything_stored_about_changes()) == []


# --- helpers -------------------------------------------------------------------------


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def _fault_quoting_a_row(sql_fragment):
    """A database error in the middle of a batch whose message quotes a personal value."""

    class Fault:
        def __enter__(self):
            self.wrapper = connection.execute_wrapper(self.fail)
            self.wrapper.__enter__()

        def __exit__(self, *exc):
            return self.wrapper.__exit__(*exc)

        @staticmethod
        def fail(execute, sql, params, many, context):
            if sql_fragment in sql:
                raise DatabaseError(ROW_QUOTING_ERROR)
            return execute(sql, params, many, context)

    return Fault()
