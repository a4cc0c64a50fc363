"""GET /v2/rule-promotions and GET /v2/rule-promotions/{id}/codes: EPCC's shape, paging, 404."""

import uuid
from datetime import UTC, datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from promotions.models import Promotion, PromotionCode


def test_rule_promotions_list_in_epccs_shape_oldest_first(api_client, make_promotion):
    first = make_promotion(name="Spring", codes=())
    second = make_promotion(name="Autumn", codes=())
    Promotion.objects.filter(pk=first.pk).update(created_at=datetime(2024, 3, 15, 19, 0, 12, tzinfo=UTC))
    Promotion.objects.filter(pk=second.pk).update(created_at=datetime(2024, 3, 16, tzinfo=UTC))
    payload = api_client.get("/v2/rule-promotions").json()
    assert payload["data"] == [
        {
            "type": "rule_promotion",
            "id": str(first.pk),
            "name": "Spring",
            "meta": {
                "timestamps": {"created_at": "2024-03-15T19:00:12Z", "updated_at": "2024-03-15T19:00:12Z"}
            },
        },
        {
            "type": "rule_promotion",
            "id": str(second.pk),
            "name": "Autumn",
            "meta": {
                "timestamps": {"created_at": "2024-03-16T00:00:00Z", "updated_at": "2024-03-16T00:00:00Z"}
            },
        },
    ]
    assert payload["meta"]["results"] == {"total": 2}
    newest = api_client.get("/v2/rule-promotions", {"sort": "-created_at", "page[limit]": 1}).json()
    assert [d["id"] for d in newest["data"]] == [str(second.pk)]
    assert newest["meta"]["page"] == {"limit": 1, "offset": 0, "current": 1, "total": 2}


def test_codes_of_a_promotion_by_code_and_paged(api_client, make_promotion):
    promotion = make_promotion(codes=("summer", "autumn", "SPRING"))
    make_promotion(codes=("other",))
    payload = api_client.get(f"/v2/rule-promotions/{promotion.pk}/codes", {"page[limit]": 2}).json()
    codes = {c.code: c for c in PromotionCode.objects.filter(promotion=promotion)}
    assert [d["code"] for d in payload["data"]] == ["SPRING", "autumn"]
    assert payload["data"][1] == {
        "type": "promotion_code",
        "id": str(codes["autumn"].pk),
        "code": "autumn",
        "meta": {"timestamps": {"created_at": payload["data"][1]["meta"]["timestamps"]["created_at"]}},
    }
    assert payload["meta"]["results"] == {"total": 3}
    assert payload["links"]["next"].endswith("page[offset]=2&page[limit]=2")
    rest = api_client.get(payload["links"]["next"]).json()
    assert [d["code"] for d in rest["data"]] == ["summer"]


def test_codes_page_is_one_query_whatever_its_size(api_client, make_promotion):
    promotion = make_promotion(codes=[f"code{n}" for n in range(30)])
    api_client.get(f"/v2/rule-promotions/{promotion.pk}/codes")  # warm the key's lookups
    with CaptureQueriesContext(connection) as few:
        api_client.get(f"/v2/rule-promotions/{promotion.pk}/codes", {"page[limit]": 2})
    with CaptureQueriesContext(connection) as many:
        api_client.get(f"/v2/rule-promotions/{promotion.pk}/codes", {"page[limit]": 30})
    assert len(few) == len(many)


def test_codes_of_an_unknown_promotion_is_a_404(api_client):
    missing = uuid.uuid4()
    response = api_client.get(f"/v2/rule-promotions/{missing}/codes")
    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == f"No rule promotion found with id {missing}"


def test_promotion_lists_need_their_view_permissions(client_for, django_user_model, make_promotion):
    promotion = make_promotion()
    nobody = client_for(django_user_model.objects.create_user(username="nobody"))
    assert nobody.get("/v2/rule-promotions").status_code == 403
    assert nobody.get(f"/v2/rule-promotions/{promotion.pk}/codes").status_code == 403


def test_promotion_lists_refuse_a_filter(api_client, make_promotion):
    response = api_client.get("/v2/rule-promotions", {"filter": "eq(name,x)"})
    assert response.status_code == 400
