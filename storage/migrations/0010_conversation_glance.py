from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('baton', '0009_retention_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Conversation',
            name='last_customer_line',
            field=fields.TextField(null=True),
        ),
    ]
