from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

# Conversations open today keep their one-open-per-source-id guarantee (storage.intake.open_key).
BACKFILL = (
    "UPDATE conversation SET open_key = CAST(LENGTH(source) AS TEXT) || ':' || source || external_id "
    "WHERE status IN ('queued', 'claimed')"
)


class DropUniqueSourceId(ops.RemoveConstraint):
    """A returning customer opens a new conversation with the same source and id, so (source, external_id) is
    no longer unique (open_key is, while a conversation is open). PostgreSQL drops the constraint. SQLite
    keeps a UNIQUE written inside CREATE TABLE as an automatic index that cannot be dropped, so the table is
    remade, SQLite's documented way (sqlite.org/lang_altertable.html, "other kinds of table schema
    changes"): foreign keys off — or dropping the old table would cascade into messages, notes and posts —,
    one transaction, the table's own indexes created again, the foreign keys checked before the commit."""

    atomic = False  # PRAGMA foreign_keys cannot change inside a transaction

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        if state_editor is None or state_editor.DIALECT != "sqlite":
            await super().database_forward(app_label, old_state, new_state, state_editor)
            return
        client = state_editor.client
        _, indexes = await client.execute_query(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'conversation' AND sql IS NOT NULL"
        )
        await client.execute_query("PRAGMA foreign_keys = OFF")
        # Statement by statement inside one explicit transaction (executescript would commit at once).
        state_editor.atomic_migration, was_atomic = True, state_editor.atomic_migration
        try:
            await client.execute_query("BEGIN")
            try:
                await state_editor._remake_table(new_state.apps.get_model(f"{app_label}.{self.model_name}"))
                for row in indexes:
                    await client.execute_query(row["sql"])
                _, broken = await client.execute_query("PRAGMA foreign_key_check")
                if broken:
                    raise RuntimeError(f"foreign keys broken by the conversation rebuild: {broken[:3]}")
                await client.execute_query("COMMIT")
            except BaseException:
                await client.execute_query("ROLLBACK")
                raise
        finally:
            state_editor.atomic_migration = was_atomic
            await client.execute_query("PRAGMA foreign_keys = ON")


class Migration(migrations.Migration):
    dependencies = [('baton', '0011_message_kind')]

    initial = False
    atomic = False  # see DropUniqueSourceId

    operations = [
        ops.CreateModel(
            name='IdempotentAnswer',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(max_length=200)),
                ('key', fields.CharField(max_length=255)),
                ('status', fields.SmallIntField()),
                ('body', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotent_answer', 'app': 'baton', 'unique_together': (('source', 'key'),), 'indexes': [Index(fields=['created_at'], name='idempotent_answer_by_age')], 'pk_attr': 'id', 'table_description': 'The first answer to a request that carried an Idempotency-Key (per source): a repeat gets it again.'},
            bases=['Model'],
        ),
        DropUniqueSourceId(
            model_name='Conversation',
            name=None,
            fields=['source', 'external_id'],
        ),
        ops.AddField(
            model_name='Conversation',
            name='omitted',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Conversation',
            name='open_key',
            field=fields.CharField(null=True, unique=True, max_length=510),
        ),
        ops.AddField(
            model_name='Conversation',
            name='previous',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddIndex(
            model_name='Conversation',
            index=Index(fields=['source', 'external_id'], name='conversation_by_source_id'),
        ),
        ops.RunSQL(BACKFILL),
    ]
