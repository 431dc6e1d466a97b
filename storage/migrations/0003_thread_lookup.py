from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0002_timeline_indexes')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='PlatformPost',
            index=Index(fields=['target', 'thread_ref'], name='post_by_thread'),
        ),
    ]
