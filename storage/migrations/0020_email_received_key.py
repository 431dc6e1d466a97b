from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
import hashlib

BATCH = 5000


# Frozen copy of storage.channels.received_key (later edits there must not change this migration).
def _key(source, mail_id):
    return hashlib.sha256(f"{len(source)}:{source}{mail_id}".encode("utf-8", "surrogatepass")).hexdigest()


async def backfill(apps, schema_editor) -> None:
    """Every received mail already stored gets its key; a copy stored twice before this guard existed (the race
    it closes) keeps the first one's key only, so the unique index holds and nothing is deleted."""
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    select = ('SELECT e.id, e.mail_id, c.source FROM email_id e JOIN conversation c ON c.id = e.conversation_id '
              + ('WHERE e.outbound = false AND e.id > $1 ORDER BY e.id LIMIT $2' if postgres
                 else 'WHERE e.outbound = 0 AND e.id > ? ORDER BY e.id LIMIT ?'))
    update = ("UPDATE email_id SET received_key = $1 WHERE id = $2" if postgres
              else "UPDATE email_id SET received_key = ? WHERE id = ?")
    seen, last = set(), 0
    while True:
        _, rows = await client.execute_query(select, [last, BATCH])
        if not rows:
            return
        keyed = []
        for row in rows:
            key = _key(row["source"], row["mail_id"])
            if key not in seen:
                seen.add(key)
                keyed.append([key, row["id"]])
        if keyed:
            await client.execute_many(update, keyed)
        last = rows[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [('baton', '0019_outbox_priority')]

    initial = False

    operations = [
        ops.AddField(
            model_name='EmailId',
            name='received_key',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.RunPython(backfill),
    ]
