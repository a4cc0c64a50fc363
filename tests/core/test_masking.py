"""The mask's rule (a value is neither NULL nor empty) as SQL, as annotations and in Python, held together."""

import pytest
from django.db import connection
from psycopg import sql

from core.masking import mask_python, sql_has_value, sql_masked

VALUES = [None, "", " ", "a", "Ada Lovelace", "**"]


@pytest.mark.django_db
def test_the_sql_mask_and_flag_agree_with_python_for_every_kind_of_value(settings):
    settings.PRIVACY_MASK = "##"
    column = sql.Identifier("v")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE masking_rule (n int, v text, had boolean)")
        cursor.executemany("INSERT INTO masking_rule (n, v) VALUES (%s, %s)", list(enumerate(VALUES)))
        statement = sql.SQL("UPDATE masking_rule SET had = {flag}, {masks} RETURNING n, v, had").format(
            flag=sql_has_value([column]), masks=sql_masked([column])
        )
        cursor.execute(statement.as_string(), {"mask": "##"})
        rows = sorted(cursor.fetchall())

    for n, masked, had in rows:
        value = VALUES[n]
        assert masked == mask_python(value)
        assert had is (value not in (None, ""))
