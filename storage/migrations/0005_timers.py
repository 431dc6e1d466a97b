from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('baton', '0004_platform_installs')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Conversation',
            name='reminders_sent',
            field=fields.SmallIntField(default=0, db_default=0),
        ),
    ]
