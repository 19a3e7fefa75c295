SELECT
  customer_id,
  COUNT(*) AS events,
  COUNT(DISTINCT event_type) AS distinct_event_types,
  LISTAGG(event_type, ' > ') WITHIN GROUP (ORDER BY
    ts NULLS LAST,
    _batch NULLS LAST,
    _line NULLS LAST) AS path,
  MIN_BY(event_type, STRUCT(ts AS t, _batch AS b, _line AS l)) AS first_event_type,
  MIN(ts) AS first_event_at,
  MAX(ts) AS last_event_at
FROM events
WHERE
  NOT customer_id IS NULL
GROUP BY
  customer_id
ORDER BY
  customer_id NULLS LAST
