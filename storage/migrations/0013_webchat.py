from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0012_returning_customers')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BatonSecret',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=50)),
                ('value', fields.CharField(max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'baton_secret', 'app': 'baton', 'pk_attr': 'name', 'table_description': "Keys Baton makes for itself when no setting gives one (the web chat's token key), shared by every"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CustomerFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('baton.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='customer_files', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=200)),
                ('size', fields.IntField()),
                ('data', fields.BinaryField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer_file', 'app': 'baton', 'pk_attr': 'id', 'table_description': 'A file a customer sent (a web chat upload, MMS media): kept in the database so that the outbox can'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebchatEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('baton.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='webchat_events', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=10)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('client_id', fields.CharField(null=True, max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webchat_event', 'app': 'baton', 'unique_together': (('conversation', 'client_id'),), 'indexes': [Index(fields=['conversation_id', 'id'], name='webchat_event_by_conversation')], 'pk_attr': 'id', 'table_description': "What the visitor's page shows, in order (its id is the Server-Sent Events id): their own messages,"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebchatSession',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('baton.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='webchat_sessions', on_delete=OnDelete.CASCADE)),
                ('nonce', fields.CharField(unique=True, max_length=64)),
                ('visitor_name', fields.CharField(null=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('csat_score', fields.SmallIntField(null=True)),
                ('csat_comment', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'webchat_session', 'app': 'baton', 'indexes': [Index(fields=['conversation_id'], name='webchat_session_by_conversation')], 'pk_attr': 'id', 'table_description': "A web chat visitor's key to one conversation: the token's nonce, and how the chat ended."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Survey',
            name='comment',
            field=fields.TextField(null=True, unique=False),
        ),
    ]
