from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0018_customer_name_key')]

    initial = False

    operations = [
        ops.AddField(
            model_name='OutboxJob',
            name='priority',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
        ops.AddIndex(
            model_name='OutboxJob',
            index=Index(fields=['priority', 'available_at'], name='outbox_due_first'),
        ),
    ]
