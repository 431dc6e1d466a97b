"""Tortoise ORM tables. Only `storage/` imports this module; the rest of Baton uses the repositories.
# Note: class docstrings become SQL table comments, and Tortoise 1.1 splits SQLite scripts on ";",
# so a docstring here must not contain a semicolon.

Every lookup path has an index: normalized identity values, case numbers, source + external
conversation id, a customer's timeline by time, the outbox by readiness.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from bot.domain import ConversationStatus
from bot.identity import name_keys


class Customer(Model):
    id = fields.IntField(primary_key=True)
    display_name = fields.CharField(max_length=200)
    # The name as lookups match it (bot.identity.name_keys): folded ("dana whitfield") and surname first
    # ("whitfield dana"). Kept by `save` and by every bulk or UPDATE writer of display_name; a lookup by
    # name is a prefix range on either index (storage.customer_admin.search_by_name).
    name_key = fields.CharField(max_length=200, null=True)
    surname_key = fields.CharField(max_length=200, null=True)
    first_name = fields.CharField(max_length=100, null=True)
    last_name = fields.CharField(max_length=100, null=True)
    company = fields.CharField(max_length=200, null=True)
    job_title = fields.CharField(max_length=200, null=True)
    relationship_type = fields.CharField(max_length=50, null=True)
    city = fields.CharField(max_length=100, null=True)
    category = fields.CharField(max_length=100, null=True)
    primary_contact = fields.CharField(max_length=200, null=True)
    preferred_channel = fields.CharField(max_length=50, null=True)
    gender = fields.CharField(max_length=30, null=True)
    email = fields.CharField(max_length=320, null=True)
    mobile_phone = fields.CharField(max_length=32, null=True)
    home_phone = fields.CharField(max_length=32, null=True)
    tags = fields.JSONField(default=list)
    notes = fields.TextField(null=True)
    locked = fields.BooleanField(default=False)
    anonymized_at = fields.DatetimeField(null=True)
    merged_into = fields.ForeignKeyField(
        "baton.Customer", related_name="merged_from", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    # Running engagement totals, kept by storage.engagement.recompute whenever orders or surveys
    # of this customer are written or moved, so that a summary reads them instead of aggregating.
    order_count = fields.IntField(default=0, db_default=0)
    order_total_cents = fields.BigIntField(default=0, db_default=0)
    first_order_at = fields.DatetimeField(null=True)
    last_order_at = fields.DatetimeField(null=True)
    last_order_number = fields.CharField(max_length=64, null=True)
    last_order_currency = fields.CharField(max_length=3, null=True)
    # Lifetime value per currency, {"EUR": 30000, "USD": 117500} in cents: never summed across currencies.
    order_totals = fields.JSONField(null=True)
    csat_points = fields.IntField(default=0, db_default=0)
    csat_responses = fields.IntField(default=0, db_default=0)

    class Meta:
        table = "customer"
        # The retention sweep walks customers by last profile change (storage.timers).
        indexes = (
            Index(fields=("updated_at", "id"), name="customer_retention"),
            Index(fields=("name_key", "id"), name="customer_by_name"),
            Index(fields=("surname_key", "id"), name="customer_by_surname"),
        )

    async def save(self, *args, update_fields=None, **kwargs) -> None:
        """Every save keeps the name keys in step with display_name."""
        if update_fields is None or "display_name" in update_fields:
            self.name_key, self.surname_key = name_keys(self.display_name)
            if update_fields is not None:
                update_fields = [*update_fields, "name_key", "surname_key"]
        await super().save(*args, update_fields=update_fields, **kwargs)


class Identity(Model):
    """One way to recognise a customer: kind is email | phone | a channel name | an external system."""

    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("baton.Customer", related_name="identities", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=40)
    value = fields.CharField(max_length=320)
    created_at = fields.DatetimeField()

    class Meta:
        table = "identity"
        unique_together = (("customer", "kind", "value"),)
        # By value alone: `lookup` tries the words it is given as any identity (a CRM or channel id).
        indexes = (Index(fields=("kind", "value"), name="identity_lookup"), Index(fields=("value",), name="identity_by_value"))


class Agent(Model):
    id = fields.IntField(primary_key=True)
    platform = fields.CharField(max_length=20)
    platform_user_id = fields.CharField(max_length=200)
    display_name = fields.CharField(max_length=200, null=True)
    role = fields.CharField(max_length=30, default="agent")
    # The conversation this agent last claimed or acted on: `/baton note …` without #conv uses it.
    # A plain id, not a foreign key: agent <-> conversation would be a cycle the migrations cannot order.
    current_conversation_id = fields.IntField(null=True)

    class Meta:
        table = "agent"
        unique_together = (("platform", "platform_user_id"),)


class Case(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=64, unique=True)
    customer = fields.ForeignKeyField("baton.Customer", related_name="cases", null=True, on_delete=fields.SET_NULL)
    title = fields.CharField(max_length=300)
    priority = fields.CharField(max_length=20, null=True)
    status = fields.CharField(max_length=30, default="active")
    product = fields.CharField(max_length=200, null=True)
    owner = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "support_case"
        indexes = (Index(fields=("customer_id", "created_at"), name="case_by_customer"),)


class CaseComment(Model):
    """Internal case comment: never shown to the customer, never edited (no update path exists)."""

    id = fields.IntField(primary_key=True)
    case = fields.ForeignKeyField("baton.Case", related_name="comments", on_delete=fields.CASCADE)
    author = fields.CharField(max_length=200)
    text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "case_comment"
        # The customer page reads a case's comments page by page (storage.page).
        indexes = (Index(fields=("case_id", "id"), name="comment_by_case"),)


class Conversation(Model):
    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=200)
    external_id = fields.CharField(max_length=300)
    # While the conversation is open: "<len(source)>:<source><external_id>", unique, so a source's conversation
    # has at most one open Baton conversation; NULL once it ended, so the customer can come back (SPEC 3.1).
    open_key = fields.CharField(max_length=510, null=True, unique=True)
    # The conversation this customer had before with the same source and id: {id, status, wrapup_code, ended_at}.
    previous = fields.JSONField(null=True)
    # Items a list of the handoff lost when it was cut to fit (SPEC 3.4): {"prechat": 10, …}.
    omitted = fields.JSONField(null=True)
    channel = fields.CharField(max_length=40, default="webchat")
    kind = fields.CharField(max_length=20, default="customer")
    queue = fields.CharField(max_length=100, null=True)
    status = fields.CharField(max_length=20, default=ConversationStatus.QUEUED.value)
    customer = fields.ForeignKeyField(
        "baton.Customer", related_name="conversations", null=True, on_delete=fields.SET_NULL
    )
    case = fields.ForeignKeyField("baton.Case", related_name="conversations", null=True, on_delete=fields.SET_NULL)
    # Candidate customer ids when several share an identifier (multi-match card).
    candidates = fields.JSONField(default=list)
    # What the handoff said about the customer, kept to create one later ("create new").
    customer_input = fields.JSONField(default=dict)
    prechat = fields.JSONField(default=list)
    visitor = fields.JSONField(null=True)
    bot = fields.JSONField(null=True)
    origin = fields.JSONField(null=True)
    reply_url = fields.CharField(max_length=2000, null=True)
    claimed_by = fields.ForeignKeyField("baton.Agent", related_name="claims", null=True, on_delete=fields.SET_NULL)
    claimed_at = fields.DatetimeField(null=True)
    wrapup_code = fields.CharField(max_length=50, null=True)
    wrapup_notes = fields.TextField(null=True)
    wrapped_at = fields.DatetimeField(null=True)
    # Sentiment of the customer's messages (VADER compound) and their lower-cased text for topics.
    sentiment = fields.FloatField(null=True)
    topic_text = fields.TextField(null=True)
    # The customer's newest line in this conversation, for the card's first view (no extra query per card).
    last_customer_line = fields.TextField(null=True)
    # Unclaimed-timer level reached: 1 = re-announced, 2 = escalated (compare-and-set, so once per process set).
    reminders_sent = fields.SmallIntField(default=0, db_default=0)
    # Bumped on every change the card shows; the delivery worker edits the card until it caught up.
    revision = fields.IntField(default=1)
    last_activity_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "conversation"
        indexes = (
            Index(fields=("source", "external_id"), name="conversation_by_source_id"),
            Index(fields=("customer_id", "created_at"), name="conversation_by_customer"),
            Index(fields=("status", "last_activity_at"), name="conversation_by_status"),
        )


class Message(Model):
    id = fields.IntField(primary_key=True)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="messages", on_delete=fields.CASCADE)
    sender = fields.CharField(max_length=20)  # customer | bot | agent | system
    # text: a line of the conversation; log: Baton's interaction log (internal); status: a status change the
    # customer's side hears (accepted, completed, failed), in one ordered stream with the agents' replies.
    kind = fields.CharField(max_length=10, default="text", db_default="text")
    sender_name = fields.CharField(max_length=200, null=True)
    text = fields.TextField()
    attachments = fields.JSONField(default=list)
    internal = fields.BooleanField(default=False)
    # Position in the handoff transcript, so a replayed handoff appends only the lines it had not sent.
    transcript_index = fields.IntField(null=True)
    # The platform it was typed on ("slack", "teams"), so the delivery worker does not echo it back there.
    posted_from = fields.CharField(max_length=20, null=True)
    # For agent replies: whether (and when) it was relayed to the customer.
    relayed_at = fields.DatetimeField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "message"
        indexes = (Index(fields=("conversation_id", "id"), name="message_by_conversation"),)


class Note(Model):
    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("baton.Customer", related_name="customer_notes", null=True, on_delete=fields.CASCADE)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="notes", null=True, on_delete=fields.SET_NULL)
    author = fields.CharField(max_length=200)
    text = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "note"
        indexes = (Index(fields=("customer_id", "created_at"), name="note_by_customer"),)


class Activity(Model):
    """One timeline entry of a customer (SPEC 4.1 Timeline), written alongside what it describes."""

    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("baton.Customer", related_name="activities", on_delete=fields.CASCADE)
    at = fields.DatetimeField()
    category = fields.CharField(max_length=20)  # customer | case | conversation
    kind = fields.CharField(max_length=20)  # case | note | comment | conversation | order | email | call | survey
    title = fields.CharField(max_length=300)
    detail = fields.TextField(null=True)
    case = fields.ForeignKeyField("baton.Case", related_name="activities", null=True, on_delete=fields.CASCADE)
    conversation = fields.ForeignKeyField(
        "baton.Conversation", related_name="activities", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "activity"
        indexes = (
            Index(fields=("customer_id", "at"), name="activity_timeline"),
            Index(fields=("customer_id", "category", "at"), name="activity_timeline_category"),
        )


class Order(Model):
    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("baton.Customer", related_name="orders", on_delete=fields.CASCADE)
    number = fields.CharField(max_length=64)
    total = fields.DecimalField(max_digits=12, decimal_places=2)
    currency = fields.CharField(max_length=3, default="USD")
    placed_at = fields.DatetimeField()

    class Meta:
        table = "customer_order"
        indexes = (
            Index(fields=("customer_id", "placed_at"), name="order_by_customer"),
            # Covering: engagement totals read only the index, however many orders a customer has.
            Index(fields=("customer_id", "placed_at", "total", "id"), name="order_engagement"),
            # Covering: the customer page's totals per currency read only the index.
            Index(fields=("customer_id", "currency", "total"), name="order_by_currency"),
        )


class Survey(Model):
    id = fields.IntField(primary_key=True)
    customer = fields.ForeignKeyField("baton.Customer", related_name="surveys", on_delete=fields.CASCADE)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="surveys", null=True, on_delete=fields.SET_NULL)
    score = fields.SmallIntField()  # CSAT 1..5
    comment = fields.TextField(null=True)  # what the customer wrote beside the score (web chat CSAT)
    at = fields.DatetimeField()

    class Meta:
        table = "survey"
        indexes = (
            Index(fields=("customer_id", "at"), name="survey_by_customer"),
            Index(fields=("customer_id", "score"), name="survey_csat"),
        )


class PageLinkUse(Model):
    """A customer-page link already opened: each link opens one browser session, once (bot.core.page_links)."""

    jti = fields.CharField(max_length=32, primary_key=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "page_link_use"
        indexes = (Index(fields=("expires_at",), name="page_link_use_by_expiry"),)


class DispositionCode(Model):
    code = fields.CharField(max_length=50, primary_key=True)
    label = fields.CharField(max_length=200)
    active = fields.BooleanField(default=True)

    class Meta:
        table = "disposition_code"


class AuditEvent(Model):
    id = fields.IntField(primary_key=True)
    at = fields.DatetimeField()
    actor = fields.CharField(max_length=200)  # "slack:U123", "teams:29:…", "system"
    action = fields.CharField(max_length=40)
    customer_id = fields.IntField(null=True)
    detail = fields.JSONField(default=dict)

    class Meta:
        table = "audit_event"
        # Append-only: migration 0014 adds triggers that refuse UPDATE and DELETE on both databases.
        indexes = (Index(fields=("customer_id", "at"), name="audit_by_customer"), Index(fields=("at",), name="audit_by_time"))


class OutboxJob(Model):
    """Durable delivery work: "bring conversation X up to date on target T".

    One row per (target, conversation). Enqueueing bumps `requested_rev`; a worker leases the row,
    syncs, and records the revision it reached. Work requested during a sync is not lost because the
    row stays due while `done_rev < requested_rev`.
    """

    id = fields.IntField(primary_key=True)
    target = fields.CharField(max_length=20)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="outbox", on_delete=fields.CASCADE)
    requested_rev = fields.IntField(default=1)
    done_rev = fields.IntField(default=0)
    available_at = fields.DatetimeField()
    lease_owner = fields.CharField(max_length=64, null=True)
    lease_until = fields.DatetimeField(null=True)
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=500, null=True)
    dead = fields.BooleanField(default=False)
    # 0: card work (a root card, an edit, anything just requested); 1: only thread replies are left and
    # the channel had no posting slot, so the job waits its turn behind every channel's card work.
    priority = fields.SmallIntField(default=0, db_default=0)

    class Meta:
        table = "outbox_job"
        unique_together = (("target", "conversation"),)
        # The lease reads pending jobs only, through a partial index `outbox_pending` (migration 0021): a job
        # stays here once done, so an index over every row would grow with every conversation ever had.
        # Tortoise's PartialIndex cannot say `done_rev < requested_rev`, so the migration writes it in SQL.


class PlatformPost(Model):
    """What Baton already posted where: a thread root (item 'conv:<id>:root') or a customer message
    (item 'conv:<id>:msg:<message id>'), kept so that anonymizing can reach it later.

    The unique key is what stops a second process from posting the same thing twice.
    """

    id = fields.IntField(primary_key=True)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="posts", on_delete=fields.CASCADE)
    target = fields.CharField(max_length=20)
    item = fields.CharField(max_length=64)
    channel = fields.CharField(max_length=300, null=True)
    ref = fields.CharField(max_length=300, null=True)  # Slack ts, Teams activity id
    thread_ref = fields.CharField(max_length=500, null=True)  # Slack thread ts, Teams thread conversation id
    revision = fields.IntField(default=0)  # card revision last rendered there
    last_message_id = fields.IntField(default=0)  # thread replies posted up to this message id
    payload = fields.JSONField(null=True)  # what was sent (kept by the recording target only)
    # A customer message's post whose text was anonymized since: the sync deletes or rewrites it there.
    redact = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField()

    class Meta:
        table = "platform_post"
        unique_together = (("target", "item"),)
        indexes = (
            # thread_ref first: an index led by `target` alone made PostgreSQL's cached plan for the sync's
            # root lookup (target, item) scan every post of the target while the table was young.
            Index(fields=("thread_ref", "target"), name="post_by_thread"),
            # Every sync asks whether a conversation has posts waiting to be redacted.
            Index(fields=("conversation_id", "target", "redact"), name="post_redactions"),
        )


class Route(Model):
    """Which channel a queue's handoffs go to on a platform (`route here [queue]`)."""

    id = fields.IntField(primary_key=True)
    target = fields.CharField(max_length=20)
    queue = fields.CharField(max_length=100)
    channel = fields.CharField(max_length=300)
    reference = fields.JSONField(null=True)  # Teams conversation reference of the channel
    created_by = fields.CharField(max_length=200, null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "route"
        unique_together = (("target", "queue"),)


class ProcessedEvent(Model):
    """Platform event ids already handled (Slack retries the same event_id)."""

    key = fields.CharField(max_length=200, primary_key=True)
    at = fields.DatetimeField()

    class Meta:
        table = "processed_event"


class SlackInstallation(Model):
    """A Slack workspace (or org) that installed Baton through OAuth (the bot token lives here)."""

    id = fields.IntField(primary_key=True)
    client_id = fields.CharField(max_length=100, null=True)
    app_id = fields.CharField(max_length=50, null=True)
    enterprise_id = fields.CharField(max_length=50, null=True)
    team_id = fields.CharField(max_length=50, null=True)
    user_id = fields.CharField(max_length=50, null=True)
    bot_token = fields.CharField(max_length=300, null=True)
    bot_id = fields.CharField(max_length=50, null=True)
    bot_user_id = fields.CharField(max_length=50, null=True)
    is_enterprise_install = fields.BooleanField(default=False)
    data = fields.JSONField(default=dict)  # the whole installation as slack_sdk serializes it
    installed_at = fields.DatetimeField()

    class Meta:
        table = "slack_installation"
        indexes = (Index(fields=("enterprise_id", "team_id", "installed_at"), name="slack_installation_lookup"),)


class SlackOAuthState(Model):
    state = fields.CharField(max_length=200, primary_key=True)
    expires_at = fields.DatetimeField()

    class Meta:
        table = "slack_oauth_state"


class TeamsInstall(Model):
    """Where the Teams bot was added (team, channel, chat): the conversation reference for proactive posts."""

    id = fields.IntField(primary_key=True)
    conversation_id = fields.CharField(max_length=500, unique=True)
    conversation_type = fields.CharField(max_length=20, null=True)  # channel | personal | groupChat
    team_id = fields.CharField(max_length=300, null=True)
    channel_id = fields.CharField(max_length=300, null=True)
    tenant_id = fields.CharField(max_length=100, null=True)
    service_url = fields.CharField(max_length=500)
    reference = fields.JSONField(default=dict)
    installed_at = fields.DatetimeField()
    removed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "teams_install"


class IdempotentAnswer(Model):
    """The first answer to a request that carried an Idempotency-Key (per source): a repeat gets it again."""

    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=200)
    key = fields.CharField(max_length=255)
    status = fields.SmallIntField()
    body = fields.JSONField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "idempotent_answer"
        unique_together = (("source", "key"),)
        indexes = (Index(fields=("created_at",), name="idempotent_answer_by_age"),)


class ChannelOptOut(Model):
    """A customer who texted STOP to a Baton number (source + conversation id: the two numbers): nothing more is sent."""

    id = fields.IntField(primary_key=True)
    source = fields.CharField(max_length=200)
    external_id = fields.CharField(max_length=300)
    opted_out_at = fields.DatetimeField()

    class Meta:
        table = "channel_opt_out"
        unique_together = (("source", "external_id"),)


class EmailId(Model):
    """The Message-ID of a mail of a conversation, received or sent: In-Reply-To and References find the conversation."""

    id = fields.IntField(primary_key=True)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="email_ids", on_delete=fields.CASCADE)
    message = fields.ForeignKeyField("baton.Message", related_name="email_ids", null=True, on_delete=fields.CASCADE)
    mail_id = fields.CharField(max_length=998)  # "<id@host>" as in the header
    outbound = fields.BooleanField(default=False)
    subject = fields.TextField(null=True)
    references = fields.JSONField(default=list)  # the mail's own References (received mail)
    reply_to = fields.CharField(max_length=320, null=True)  # where answers go (received mail)
    reply_name = fields.CharField(max_length=200, null=True)
    full_text = fields.TextField(null=True)  # the whole text as received (the thread shows only the new part)
    # Received mail only: a hash of the conversation's source and the Message-ID (storage.channels.received_key),
    # unique, so two copies of one mail posted at the same moment store it once. NULL for sent mail.
    received_key = fields.CharField(max_length=64, null=True, unique=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "email_id"
        indexes = (
            Index(fields=("mail_id",), name="email_id_lookup"),
            Index(fields=("conversation_id", "id"), name="email_id_by_conversation"),
        )


class RelayProgress(Model):
    """How far a reply to the customer got: SMS parts already sent, so a retry never sends one twice."""

    id = fields.IntField(primary_key=True)
    message = fields.ForeignKeyField("baton.Message", related_name="relay_progress", on_delete=fields.CASCADE)
    parts_sent = fields.IntField(default=0)

    class Meta:
        table = "relay_progress"
        unique_together = (("message",),)

class CustomerFile(Model):
    """A file a customer sent (a web chat upload, MMS media): kept in the database so that the outbox can
    put it into every thread as a real file, however often a delivery is retried."""

    id = fields.IntField(primary_key=True)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="customer_files", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=200)
    size = fields.IntField()
    data = fields.BinaryField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "customer_file"


class WebchatSession(Model):
    """A web chat visitor's key to one conversation: the token's nonce, and how the chat ended."""

    id = fields.IntField(primary_key=True)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="webchat_sessions", on_delete=fields.CASCADE)
    nonce = fields.CharField(max_length=64, unique=True)
    visitor_name = fields.CharField(max_length=200, null=True)
    created_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    csat_score = fields.SmallIntField(null=True)
    csat_comment = fields.TextField(null=True)

    class Meta:
        table = "webchat_session"
        indexes = (Index(fields=("conversation_id",), name="webchat_session_by_conversation"),)


class WebchatEvent(Model):
    """What the visitor's page shows, in order (its id is the Server-Sent Events id): their own messages,
    the agents' replies, status changes. A visitor who reconnects or reloads replays it from a cursor."""

    id = fields.IntField(primary_key=True)
    conversation = fields.ForeignKeyField("baton.Conversation", related_name="webchat_events", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=10)  # message | status
    payload = fields.JSONField()
    # The page's id for a visitor message: a resend with the same one is the same message.
    client_id = fields.CharField(max_length=64, null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "webchat_event"
        unique_together = (("conversation", "client_id"),)
        indexes = (Index(fields=("conversation_id", "id"), name="webchat_event_by_conversation"),)


class BatonSecret(Model):
    """Keys Baton makes for itself when no setting gives one (the web chat's token key), shared by every
    process on the database."""

    name = fields.CharField(max_length=50, primary_key=True)
    value = fields.CharField(max_length=200)
    created_at = fields.DatetimeField()

    class Meta:
        table = "baton_secret"
