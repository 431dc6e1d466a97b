from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('baton', '0003_thread_lookup')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SlackInstallation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.CharField(null=True, max_length=100)),
                ('app_id', fields.CharField(null=True, max_length=50)),
                ('enterprise_id', fields.CharField(null=True, max_length=50)),
                ('team_id', fields.CharField(null=True, max_length=50)),
                ('user_id', fields.CharField(null=True, max_length=50)),
                ('bot_token', fields.CharField(null=True, max_length=300)),
                ('bot_id', fields.CharField(null=True, max_length=50)),
                ('bot_user_id', fields.CharField(null=True, max_length=50)),
                ('is_enterprise_install', fields.BooleanField(default=False)),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('installed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'slack_installation', 'app': 'baton', 'indexes': [Index(fields=['enterprise_id', 'team_id', 'installed_at'], name='slack_installation_lookup')], 'pk_attr': 'id', 'table_description': 'A Slack workspace (or org) that installed Baton through OAuth (the bot token lives here).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SlackOAuthState',
            fields=[
                ('state', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=200)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'slack_oauth_state', 'app': 'baton', 'pk_attr': 'state'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TeamsInstall',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('conversation_id', fields.CharField(unique=True, max_length=500)),
                ('conversation_type', fields.CharField(null=True, max_length=20)),
                ('team_id', fields.CharField(null=True, max_length=300)),
                ('channel_id', fields.CharField(null=True, max_length=300)),
                ('tenant_id', fields.CharField(null=True, max_length=100)),
                ('service_url', fields.CharField(max_length=500)),
                ('reference', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('installed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('removed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'teams_install', 'app': 'baton', 'pk_attr': 'id', 'table_description': 'Where the Teams bot was added (team, channel, chat): the conversation reference for proactive posts.'},
            bases=['Model'],
        ),
    ]
