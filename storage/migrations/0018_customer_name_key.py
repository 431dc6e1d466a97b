from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index
import unicodedata

# A lookup by name is a prefix range on these keys (`key >= 'dana' AND key < 'danb'`): on PostgreSQL
# that is a prefix only in byte order, whatever the database's collation, so the keys compare as "C".
C_COLLATION = [
    'ALTER TABLE customer ALTER COLUMN name_key TYPE VARCHAR(200) COLLATE "C"',
    'ALTER TABLE customer ALTER COLUMN surname_key TYPE VARCHAR(200) COLLATE "C"',
]
BATCH = 5000

# Frozen copy of bot.identity.fold_name and name_keys (later edits there must not change this migration).
_APOSTROPHES = str.maketrans("", "", "'’ʼ`´")


def _fold(text):
    if not isinstance(text, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().translate(_APOSTROPHES)
    return " ".join("".join(ch if ch.isalnum() else " " for ch in bare).split())


def _keys(display_name):
    key = _fold(display_name)
    words = key.split(" ")
    surname = " ".join([words[-1], *words[:-1]]) if len(words) > 1 else None
    return key[:200], surname[:200] if surname else None


async def collate_c(apps, schema_editor) -> None:
    if schema_editor.DIALECT == "postgres":
        for statement in C_COLLATION:
            await schema_editor.client.execute_query(statement)


async def backfill(apps, schema_editor) -> None:
    """Every customer already stored gets its keys, 5,000 rows per read and per UPDATE batch."""
    client = schema_editor.client
    postgres = schema_editor.DIALECT == "postgres"
    select = ("SELECT id, display_name FROM customer WHERE id > $1 ORDER BY id LIMIT $2" if postgres
              else "SELECT id, display_name FROM customer WHERE id > ? ORDER BY id LIMIT ?")
    update = ("UPDATE customer SET name_key = $1, surname_key = $2 WHERE id = $3" if postgres
              else "UPDATE customer SET name_key = ?, surname_key = ? WHERE id = ?")
    last = 0
    while True:
        _, rows = await client.execute_query(select, [last, BATCH])
        if not rows:
            return
        await client.execute_many(update, [[*_keys(row["display_name"]), row["id"]] for row in rows])
        last = rows[-1]["id"]


class Migration(migrations.Migration):
    dependencies = [('baton', '0017_customer_page')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Customer',
            name='name_key',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.AddField(
            model_name='Customer',
            name='surname_key',
            field=fields.CharField(null=True, max_length=200),
        ),
        ops.RunPython(collate_c),
        ops.RunPython(backfill),
        ops.AddIndex(
            model_name='Customer',
            index=Index(fields=['name_key', 'id'], name='customer_by_name'),
        ),
        ops.AddIndex(
            model_name='Customer',
            index=Index(fields=['surname_key', 'id'], name='customer_by_surname'),
        ),
        ops.AddIndex(
            model_name='Identity',
            index=Index(fields=['value'], name='identity_by_value'),
        ),
    ]
