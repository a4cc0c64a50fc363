"""The outbox in the admin: a read-only list with the officer's retry, and each order's and
usage's push state on its change page."""

import uuid

import pytest

from core.models import RecordType, UpstreamPush, UpstreamState

pytestmark = pytest.mark.django_db

ERROR = "422 Could not anonymize orders: Order has status: order:complete, payment:paid, shipping:unfulfilled"


@pytest.fixture
def signed_in(client, officer):
    client.force_login(officer)
    return client


def push(record_type, record_id, **values) -> UpstreamPush:
    return UpstreamPush.objects.create(
        record_type=record_type, record_id=record_id, batch_id=uuid.uuid4(), **values
    )


def test_order_and_usage_pages_show_their_push(signed_in, make_order, make_usage):
    failed, done, never = make_order(), make_order(), make_order()
    push(RecordType.ORDER, failed.pk, state=UpstreamState.FAILED, error=ERROR)
    push(RecordType.ORDER, done.pk, state=UpstreamState.DONE)
    usage = make_usage()
    push(RecordType.CODE_USAGE, usage.pk, attempts=1, error="not sent yet: could not reach the store")

    def page(path):
        response = signed_in.get(path)
        assert response.status_code == 200
        return response.content.decode()

    assert f"Failed upstream: {ERROR}" in page(f"/admin/orders/order/{failed.pk}/change/")
    assert "Done: anonymized in the store" in page(f"/admin/orders/order/{done.pk}/change/")
    assert "Not sent to the store" in page(f"/admin/orders/order/{never.pk}/change/")
    assert "Pending: to be sent to the store (1 attempts so far" in page(
        f"/admin/promotions/codeusage/{usage.pk}/change/"
    )


def test_the_outbox_list_is_read_only_and_filters_by_state(signed_in, make_order):
    order = make_order()
    push(RecordType.ORDER, order.pk, state=UpstreamState.FAILED, error=ERROR)
    push(RecordType.ORDER, uuid.uuid4(), state=UpstreamState.DONE)
    response = signed_in.get("/admin/core/upstreampush/", {"state__exact": "failed"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/admin/orders/order/{order.pk}/change/"' in html and ERROR in html
    assert "1 upstream push" in html
    assert signed_in.get("/admin/core/upstreampush/add/").status_code == 403


def test_the_officer_retries_failed_pushes(signed_in, make_order, settings):
    settings.EPCC_API_BASE_URL = ""  # nothing is queued for a worker: the state is what is tested
    failed = push(RecordType.ORDER, make_order().pk, state=UpstreamState.FAILED, error=ERROR, attempts=1)
    done = push(RecordType.ORDER, make_order().pk, state=UpstreamState.DONE)
    response = signed_in.post(
        "/admin/core/upstreampush/",
        {"action": "retry_failed_pushes", "_selected_action": [failed.pk, done.pk]},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 failed push(es) will be sent to the store again." in html
    assert "1 selected push(es) were not failed" in html
    failed.refresh_from_db()
    assert (failed.state, failed.error, failed.attempts) == (UpstreamState.PENDING, "", 0)


def test_a_viewer_without_anonymize_cannot_retry(client, viewer, make_order):
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_upstreampush"))
    client.force_login(viewer)
    failed = push(RecordType.ORDER, make_order().pk, state=UpstreamState.FAILED, error=ERROR)
    response = client.post(
        "/admin/core/upstreampush/", {"action": "retry_failed_pushes", "_selected_action": [failed.pk]}
    )
    failed.refresh_from_db()
    assert failed.state == UpstreamState.FAILED
    assert response.status_code in (200, 302)
