SELECT
  customer_id,
  COUNT(*) AS orders,
  COUNT(*) FILTER(WHERE
    status = 'refunded') AS refunded_orders,
  COUNT(DISTINCT channel) AS channels,
  COALESCE(SUM(amount) FILTER(WHERE
    status IS DISTINCT FROM 'refunded'), 0) AS revenue,
  CAST(AVG(amount) AS DOUBLE) AS avg_order_value,
  MIN(ts) AS first_order_at,
  MAX(ts) AS last_order_at
FROM orders
WHERE
  NOT customer_id IS NULL
GROUP BY
  customer_id
ORDER BY
  customer_id NULLS LAST
