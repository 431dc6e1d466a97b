from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

# Frozen copies of storage.engagement.TOTALS_SQL (later edits of that module must not change this
# migration): the lifetime value per currency of every customer that has orders.
_CENTS = "SUM(CAST(ROUND(CAST(o.total AS NUMERIC) * 100) AS BIGINT))"
_ORDERS = "FROM customer_order o WHERE o.customer_id = customer.id"
BACKFILL = {
    "sqlite": [
        f"UPDATE customer SET order_totals = (SELECT json_group_object(g.currency, g.cents) FROM (SELECT o.currency AS "
        f"currency, {_CENTS} AS cents {_ORDERS} GROUP BY o.currency ORDER BY o.currency) g) WHERE order_count > 0"
    ],
    "postgres": [
        f"UPDATE customer SET order_totals = (SELECT json_object_agg(g.currency, g.cents ORDER BY g.currency) FROM "
        f"(SELECT o.currency AS currency, {_CENTS} AS cents {_ORDERS} GROUP BY o.currency) g) WHERE order_count > 0"
    ],
}

# Audit records are append-only (SPEC 5 Roles): the database itself refuses to change or remove one, whatever
# code or console tries. TRUNCATE (a whole test database emptied) is not a row change and stays possible.
APPEND_ONLY = {
    "sqlite": [
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END",
    ],
    "postgres": [
        "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit records are append-only'; END $$",
        "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    ],
}


class PerDialectSQL(ops.RunSQL):
    """Statements per database, each sent whole: Tortoise splits SQLite scripts on ";", which would cut a
    trigger's body in two."""

    def __init__(self, statements: dict) -> None:
        super().__init__(statements)

    async def _run_sql(self, state_editor, sqls) -> None:
        dialect = "postgres" if state_editor.DIALECT == "postgres" else "sqlite"
        for statement in sqls[dialect]:
            if state_editor.collect_sql:
                state_editor.collected_sql.append(statement)
            else:
                await state_editor.client.execute_query(statement)


class Migration(migrations.Migration):
    dependencies = [('baton', '0013_webchat')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Customer',
            name='order_totals',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['at'], name='audit_by_time'),
        ),
        PerDialectSQL(BACKFILL),
        PerDialectSQL(APPEND_ONLY),
    ]
