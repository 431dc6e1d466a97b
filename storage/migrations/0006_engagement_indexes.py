from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0005_timers')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['customer_id', 'placed_at', 'total', 'id'], name='order_engagement'),
        ),
        ops.AddIndex(
            model_name='Survey',
            index=Index(fields=['customer_id', 'score'], name='survey_csat'),
        ),
    ]
