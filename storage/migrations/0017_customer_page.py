from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('baton', '0016_channels')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PageLinkUse',
            fields=[
                ('jti', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'page_link_use', 'app': 'baton', 'indexes': [Index(fields=['expires_at'], name='page_link_use_by_expiry')], 'pk_attr': 'jti', 'table_description': 'A customer-page link already opened: each link opens one browser session, once (bot.core.page_links).'},
            bases=['Model'],
        ),
        ops.AddIndex(model_name='CaseComment', index=Index(fields=['case_id', 'id'], name='comment_by_case')),
        ops.AddIndex(model_name='Note', index=Index(fields=['customer_id', 'created_at'], name='note_by_customer')),
        ops.AddIndex(model_name='Order', index=Index(fields=['customer_id', 'currency', 'total'], name='order_by_currency')),
    ]
