from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('baton', '0010_conversation_glance')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Message',
            name='kind',
            field=fields.CharField(max_length=10, default='text', db_default='text'),
        ),
    ]
