WITH e AS (
  SELECT
    customer_id,
    ts,
    event_type,
    _batch,
    _line,
    CAST(FLOOR(UNIX_TIMESTAMP(ts)) AS BIGINT) AS ts_s
  FROM events
  WHERE
    NOT customer_id IS NULL
), flagged AS (
  SELECT
    *,
    CASE
      WHEN ts_s - LAG(ts_s) OVER (
        PARTITION BY customer_id
        ORDER BY ts NULLS LAST, _batch NULLS LAST, _line NULLS LAST
      ) <= :gap_seconds
      THEN 0
      ELSE 1
    END AS starts_session
  FROM e
), numbered AS (
  SELECT
    *,
    CAST(SUM(starts_session) OVER (
      PARTITION BY customer_id
      ORDER BY ts NULLS LAST, _batch NULLS LAST, _line NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS BIGINT) AS session_no
  FROM flagged
)
SELECT
  customer_id,
  session_no,
  MIN(ts) AS session_start,
  MAX(ts) AS session_end,
  MAX(ts_s) - MIN(ts_s) AS duration_s,
  COUNT(*) AS events,
  LISTAGG(event_type, ' > ') WITHIN GROUP (ORDER BY
    ts NULLS LAST,
    _batch NULLS LAST,
    _line NULLS LAST) AS path
FROM numbered
GROUP BY
  customer_id,
  session_no
ORDER BY
  customer_id NULLS LAST,
  session_no NULLS LAST
