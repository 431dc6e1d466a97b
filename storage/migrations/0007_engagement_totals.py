from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# A frozen copy of storage.engagement.RECOMPUTE_SQL, for every customer: later edits of that module
# must not change what this migration did.
BACKFILL = """
UPDATE customer SET
  order_count = (SELECT COUNT(*) FROM customer_order o WHERE o.customer_id = customer.id),
  order_total_cents = (SELECT COALESCE(SUM(CAST(ROUND(CAST(o.total AS NUMERIC) * 100) AS BIGINT)), 0) FROM customer_order o WHERE o.customer_id = customer.id),
  first_order_at = (SELECT MIN(o.placed_at) FROM customer_order o WHERE o.customer_id = customer.id),
  last_order_at = (SELECT MAX(o.placed_at) FROM customer_order o WHERE o.customer_id = customer.id),
  last_order_number = (SELECT o.number FROM customer_order o WHERE o.customer_id = customer.id ORDER BY o.placed_at DESC, o.id DESC LIMIT 1),
  last_order_currency = (SELECT o.currency FROM customer_order o WHERE o.customer_id = customer.id ORDER BY o.placed_at DESC, o.id DESC LIMIT 1),
  csat_points = (SELECT COALESCE(SUM(s.score), 0) FROM survey s WHERE s.customer_id = customer.id),
  csat_responses = (SELECT COUNT(*) FROM survey s WHERE s.customer_id = customer.id)
"""


class Migration(migrations.Migration):
    dependencies = [('baton', '0006_engagement_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Customer',
            name='csat_points',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Customer',
            name='csat_responses',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Customer',
            name='first_order_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Customer',
            name='last_order_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Customer',
            name='last_order_currency',
            field=fields.CharField(null=True, max_length=3),
        ),
        ops.AddField(
            model_name='Customer',
            name='last_order_number',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Customer',
            name='order_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='Customer',
            name='order_total_cents',
            field=fields.BigIntField(default=0, db_default=0),
        ),
        # Existing customers get their totals from the orders and surveys already stored.
        ops.RunSQL(BACKFILL),
    ]
