"""``to_spark_sql`` rewrites the JSON constructs Spark reads differently: ``json_valid``
(Spark has none) and JSON path keys its bracket form cannot hold. Translation only; the
results on Spark are compared in tests/analytics/test_parity_experience.py."""

from __future__ import annotations

import pytest
from sqlglot.errors import UnsupportedError

from cxlens.warehouse.spark import to_spark_sql


def test_json_valid_becomes_try_parse_json() -> None:
    sql = to_spark_sql("SELECT count(*) AS n FROM v WHERE json_valid(properties)")
    assert "TRY_PARSE_JSON(properties) IS NOT NULL" in sql and "JSON_VALID" not in sql


def test_a_key_with_a_quote_uses_the_dot_form() -> None:
    sql = to_spark_sql("""SELECT json_extract_string(p, '$."it''s weight"') AS w FROM v""")
    assert "'$.it\\'s weight'" in sql
    plain = to_spark_sql("""SELECT json_extract_string(p, '$."weight"') AS w FROM v""")
    assert "'$.weight'" in plain or "$['weight']" in plain


def test_a_key_spark_cannot_address_is_refused() -> None:
    with pytest.raises(UnsupportedError, match="JSON key"):
        to_spark_sql("""SELECT json_extract_string(p, '$."it''s a.b"') AS w FROM v""")
