from django.db import migrations

# The open inquiries as they are, with no write in between (SHARE mode); what the trigger of 0007
# recorded since is in that count already.
FILL = """
LOCK TABLE tickets_inquiry IN SHARE MODE;
DELETE FROM tickets_openinquirytally;
INSERT INTO tickets_openinquirytally (queue_id, assignee_id, store_id, running, due_hour, change)
    SELECT queue_id, assignee_id, store_id, status <> 'waiting',
           date_trunc('hour', sla_due_at, 'UTC'), count(*)
    FROM tickets_inquiry
    WHERE merged_into_id IS NULL AND status IN ('new', 'open', 'waiting')
    GROUP BY 1, 2, 3, 4, 5;
"""


def fill_tally(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FILL)


def empty_tally(apps, schema_editor):
    apps.get_model("tickets", "OpenInquiryTally").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0007_open_inquiry_tally"),
    ]

    operations = [
        migrations.RunPython(fill_tally, empty_tally, elidable=False),
    ]
