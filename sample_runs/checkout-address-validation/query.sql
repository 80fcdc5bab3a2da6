-- Final analysis of checkout-addr-validation-2025q1: conversion_v2 (v2), 7-day window from exposure.
-- Run 2025-02-25 against the warehouse snapshot exported as assignments.csv / events.csv.
WITH exposed AS (
    SELECT user_id, variant, assigned_at
    FROM experiments.assignments
    WHERE experiment_id = 'checkout-addr-validation-2025q1'
      AND variant IN ('control', 'treatment')
),
qualifying_purchases AS (
    SELECT x.user_id, x.variant, e.value
    FROM exposed AS x
    JOIN analytics.events AS e
      ON e.user_id = x.user_id
    WHERE e.event = 'purchase'
      AND e.schema_version = 5
      AND e.event_time >= x.assigned_at
      AND e.event_time <  x.assigned_at + INTERVAL '7' DAY
),
per_user AS (
    SELECT x.variant, x.user_id, COUNT(q.user_id) AS purchases
    FROM exposed AS x
    LEFT JOIN qualifying_purchases AS q ON q.user_id = x.user_id
    GROUP BY x.variant, x.user_id
)
SELECT variant,
       COUNT(*)                                        AS units,
       SUM(CASE WHEN purchases > 0 THEN 1 ELSE 0 END)  AS conversions,
       AVG(CASE WHEN purchases > 0 THEN 1.0 ELSE 0.0 END) AS rate
FROM per_user
GROUP BY variant
ORDER BY variant;
-- z-test and CI computed from these counts in analysis/ab_readout.py (two-proportion z-test).
