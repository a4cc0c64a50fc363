"""The code usages admin: the same action shape as orders, and a list that stays cheap."""

import pytest
from django.contrib.admin.models import LogEntry

from core.models import AuditRecord, Interface
from promotions.models import CodeUsage
from tests.core.changelist import ANONYMIZE_USAGES, USAGES_URL, choose_action, confirm_action, messages_of


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


def listed(response) -> set:
    return {usage.pk for usage in response.context["cl"].result_list}


def test_the_action_is_offered_to_an_officer_only(client, officer, viewer, make_usage):
    make_usage()
    client.force_login(officer)
    form = client.get(USAGES_URL).context["action_form"]
    assert ANONYMIZE_USAGES in dict(form.fields["action"].choices)
    client.force_login(viewer)
    response = client.get(USAGES_URL)
    assert response.status_code == 200
    assert response.context["action_form"] is None


def test_the_confirmation_lists_new_and_already_anonymized_usages(officer_client, make_usage):
    fresh = make_usage()
    done = make_usage(anonymized=True, customer_email="**")
    response = choose_action(officer_client, USAGES_URL, ANONYMIZE_USAGES, [fresh.pk, done.pk])

    assert response.context["eligible_count"] == 1
    assert response.context["already_count"] == 1
    assert response.context["refused_count"] == 0
    html = response.content.decode()
    assert "Yes, anonymize 1 code usage" in html
    assert fresh.customer_email not in html
    assert not CodeUsage.objects.get(pk=fresh.pk).anonymized


def test_confirming_anonymizes_usages_and_reports_counts(officer_client, officer, make_usage):
    fresh, other = make_usage(), make_usage()
    done = make_usage(anonymized=True, customer_email="**")
    response = confirm_action(officer_client, USAGES_URL, ANONYMIZE_USAGES, [fresh.pk, other.pk, done.pk])

    assert "Anonymized 2 code usages. 1 were already anonymized." in messages_of(response)
    fresh.refresh_from_db()
    assert (fresh.customer_email, fresh.anonymized, fresh.updated_by) == ("**", True, officer.username)
    assert set(AuditRecord.objects.values_list("interface", flat=True)) == {Interface.ADMIN}
    entry = LogEntry.objects.get(object_id=str(fresh.pk))
    assert entry.object_repr == f"Usage {fresh.pk}"
    assert "customer_email masked" in entry.change_message and "@" not in entry.change_message


def test_select_across_follows_the_search(officer_client, make_usage, make_promotion, monkeypatch):
    from promotions.admin import CodeUsageAdmin

    monkeypatch.setattr(CodeUsageAdmin, "list_per_page", 1)
    promotion = make_promotion(codes=())
    summer = [make_usage(promotion=promotion, code="SUMMER10") for _ in range(3)]
    winter = make_usage(promotion=promotion, code="WINTER5")
    url = f"{USAGES_URL}?q=summer10"

    page = choose_action(officer_client, url, ANONYMIZE_USAGES, [summer[0].pk], select_across="1")
    assert page.context["selected_count"] == 3
    response = confirm_action(officer_client, url, ANONYMIZE_USAGES, [summer[0].pk], select_across="1")

    assert "Anonymized 3 code usages." in messages_of(response)
    assert CodeUsage.objects.filter(anonymized=True).count() == 3
    winter.refresh_from_db()
    assert not winter.anonymized


def test_search_by_email_code_and_ids(officer_client, make_usage):
    usage = make_usage(customer_email="Shopper@Example.com", code="Summer10")
    other = make_usage(code="WINTER5")
    assert listed(officer_client.get(USAGES_URL, {"q": "shopper@example.com"})) == {usage.pk}
    assert listed(officer_client.get(USAGES_URL, {"q": "shopper@"})) == set()
    assert listed(officer_client.get(USAGES_URL, {"q": "SUMMER10"})) == {usage.pk}
    assert listed(officer_client.get(USAGES_URL, {"q": str(usage.pk)})) == {usage.pk}
    assert listed(officer_client.get(USAGES_URL, {"q": str(other.order_id)})) == {other.pk}


def test_filters_and_date_drill_down(officer_client, make_usage):
    usage = make_usage()
    done = make_usage(anonymized=True)
    assert listed(officer_client.get(USAGES_URL, {"anonymized__exact": "1"})) == {done.pk}
    assert listed(officer_client.get(USAGES_URL, {"promotion__id__exact": str(usage.promotion_id)})) == {
        usage.pk
    }
    assert listed(officer_client.get(USAGES_URL, {"used_on__year": usage.used_on.year})) == {
        usage.pk,
        done.pk,
    }


@pytest.mark.parametrize("rows", [2, 15])
def test_the_list_costs_a_fixed_number_of_queries(
    officer_client, make_usage, rows, django_assert_max_num_queries
):
    for _ in range(rows):
        make_usage()  # each of its own promotion: a per-row promotion query would show
    with django_assert_max_num_queries(10):
        response = officer_client.get(USAGES_URL)
    assert len(response.context["cl"].result_list) == rows


def test_usages_cannot_be_edited(admin_client, make_usage):
    usage = make_usage(anonymized=True, customer_email="**")
    response = admin_client.post(f"{USAGES_URL}{usage.pk}/change/", {"customer_email": "back@example.com"})
    assert response.status_code == 403
    usage.refresh_from_db()
    assert usage.customer_email == "**"
