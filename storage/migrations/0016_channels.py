from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0014_governance')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelOptOut',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('source', fields.CharField(max_length=200)),
                ('external_id', fields.CharField(max_length=300)),
                ('opted_out_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'channel_opt_out', 'app': 'baton', 'unique_together': (('source', 'external_id'),), 'pk_attr': 'id', 'table_description': 'A customer who texted STOP to a Baton number (source + conversation id: the two numbers): nothing more is sent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EmailId',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation', fields.ForeignKeyField('baton.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='email_ids', on_delete=OnDelete.CASCADE)),
                ('message', fields.ForeignKeyField('baton.Message', source_field='message_id', null=True, db_constraint=True, to_field='id', related_name='email_ids', on_delete=OnDelete.CASCADE)),
                ('mail_id', fields.CharField(max_length=998)),
                ('outbound', fields.BooleanField(default=False)),
                ('subject', fields.TextField(null=True, unique=False)),
                ('references', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reply_to', fields.CharField(null=True, max_length=320)),
                ('reply_name', fields.CharField(null=True, max_length=200)),
                ('full_text', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_id', 'app': 'baton', 'indexes': [Index(fields=['mail_id'], name='email_id_lookup'), Index(fields=['conversation_id', 'id'], name='email_id_by_conversation')], 'pk_attr': 'id', 'table_description': 'The Message-ID of a mail of a conversation, received or sent: In-Reply-To and References find the conversation.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RelayProgress',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('baton.Message', source_field='message_id', db_constraint=True, to_field='id', related_name='relay_progress', on_delete=OnDelete.CASCADE)),
                ('parts_sent', fields.IntField(default=0)),
            ],
            options={'table': 'relay_progress', 'app': 'baton', 'unique_together': (('message',),), 'pk_attr': 'id', 'table_description': 'How far a reply to the customer got: SMS parts already sent, so a retry never sends one twice.'},
            bases=['Model'],
        ),
    ]
