from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

# Indexes that leave PostgreSQL's planner one sensible choice for the delivery's hot statements, whatever
# its statistics say (a cached generic plan made while a table was young keeps its choice; see
# docs/decisions.md, "Plans that do not depend on statistics"):
# - outbox_job: one partial index over the jobs still to do, in the lease's order; the two full indexes on
#   available_at covered every job ever (done jobs stay, one per conversation and target), and the lease
#   read them or the whole table.
# - platform_post: post_by_ref was no longer read by anything; post_by_thread led with `target`, which the
#   sync's root lookup (target, item) then used instead of the unique key, filtering every post.


async def pending_index(apps, schema_editor) -> None:
    false = "false" if schema_editor.DIALECT == "postgres" else "0"
    await schema_editor.client.execute_script(
        "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox_job (priority, available_at, id) "
        f"WHERE dead = {false} AND done_rev < requested_rev"
    )


async def drop_pending_index(apps, schema_editor) -> None:
    await schema_editor.client.execute_script("DROP INDEX IF EXISTS outbox_pending")


class Migration(migrations.Migration):
    dependencies = [('baton', '0020_email_received_key')]

    initial = False

    operations = [
        ops.RemoveIndex(model_name='OutboxJob', name='outbox_due'),
        ops.RemoveIndex(model_name='OutboxJob', name='outbox_due_first'),
        ops.RunPython(pending_index, drop_pending_index),
        ops.RemoveIndex(model_name='PlatformPost', name='post_by_ref'),
        ops.RemoveIndex(model_name='PlatformPost', name='post_by_thread'),
        ops.AddIndex(model_name='PlatformPost', index=Index(fields=['thread_ref', 'target'], name='post_by_thread')),
    ]
