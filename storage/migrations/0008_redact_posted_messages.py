from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0007_engagement_totals')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='PlatformPost',
            options={'table': 'platform_post', 'app': 'baton', 'unique_together': (('target', 'item'),), 'indexes': [Index(fields=['target', 'ref'], name='post_by_ref'), Index(fields=['target', 'thread_ref'], name='post_by_thread'), Index(fields=['conversation_id', 'target', 'redact'], name='post_redactions')], 'pk_attr': 'id', 'table_description': "What Baton already posted where: a thread root (item 'conv:<id>:root') or a customer message"},
        ),
        ops.AddField(
            model_name='PlatformPost',
            name='redact',
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddIndex(
            model_name='PlatformPost',
            index=Index(fields=['conversation_id', 'target', 'redact'], name='post_redactions'),
        ),
    ]
