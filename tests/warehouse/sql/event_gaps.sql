WITH e AS (
  SELECT
    customer_id,
    event_id,
    ts,
    event_type,
    channel,
    _batch,
    _line,
    CAST(FLOOR(UNIX_TIMESTAMP(ts)) AS BIGINT) AS ts_s
  FROM events
  WHERE
    NOT customer_id IS NULL
)
SELECT
  customer_id,
  event_id,
  ts,
  event_type,
  ROW_NUMBER() OVER w AS event_seq,
  LAG(event_type) OVER w AS prev_event_type,
  LAG(channel, 1, 'none') OVER w AS prev_channel,
  ts_s - LAG(ts_s) OVER w AS seconds_since_prev,
  LEAD(event_type) OVER w AS next_event_type
FROM e
WINDOW w AS (
  PARTITION BY customer_id
  ORDER BY ts NULLS LAST, _batch NULLS LAST, _line NULLS LAST
)
ORDER BY
  customer_id NULLS LAST,
  event_seq NULLS LAST
