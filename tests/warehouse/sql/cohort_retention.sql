WITH firsts AS (
  SELECT
    customer_id,
    MIN(ts) AS first_ts
  FROM orders
  WHERE
    NOT customer_id IS NULL
  GROUP BY
    customer_id
), activity AS (
  SELECT DISTINCT
    o.customer_id,
    CAST(DATE_TRUNC('MONTH', f.first_ts) AS DATE) AS cohort_month,
    (
      YEAR(o.ts) - YEAR(f.first_ts)
    ) * 12 + MONTH(o.ts) - MONTH(f.first_ts) AS months_since_first
  FROM orders AS o
  JOIN firsts AS f
    ON o.customer_id = f.customer_id
), counts AS (
  SELECT
    cohort_month,
    months_since_first,
    COUNT(*) AS customers
  FROM activity
  GROUP BY
    cohort_month,
    months_since_first
)
SELECT
  cohort_month,
  months_since_first,
  customers,
  FIRST_VALUE(customers) OVER (PARTITION BY cohort_month ORDER BY months_since_first NULLS LAST) AS cohort_size,
  CAST(customers AS DOUBLE) / FIRST_VALUE(customers) OVER (PARTITION BY cohort_month ORDER BY months_since_first NULLS LAST) AS retention
FROM counts
ORDER BY
  cohort_month NULLS LAST,
  months_since_first NULLS LAST
