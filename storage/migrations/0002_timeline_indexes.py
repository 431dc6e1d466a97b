# Indexes on foreign-key columns, added once every table exists. Note for model changes: a foreign-key
# cycle between two models makes Tortoise 1.1 create tables without their FK columns on PostgreSQL.
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Activity',
            index=Index(fields=['customer_id', 'at'], name='activity_timeline'),
        ),
        ops.AddIndex(
            model_name='Activity',
            index=Index(fields=['customer_id', 'category', 'at'], name='activity_timeline_category'),
        ),
        ops.AddIndex(
            model_name='AuditEvent',
            index=Index(fields=['customer_id', 'at'], name='audit_by_customer'),
        ),
        ops.AddIndex(
            model_name='Case',
            index=Index(fields=['customer_id', 'created_at'], name='case_by_customer'),
        ),
        ops.AddIndex(
            model_name='Conversation',
            index=Index(fields=['customer_id', 'created_at'], name='conversation_by_customer'),
        ),
        ops.AddIndex(
            model_name='Message',
            index=Index(fields=['conversation_id', 'id'], name='message_by_conversation'),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['customer_id', 'placed_at'], name='order_by_customer'),
        ),
        ops.AddIndex(
            model_name='Survey',
            index=Index(fields=['customer_id', 'at'], name='survey_by_customer'),
        ),
    ]
