from django.db import migrations, models

# An open inquiry (not merged; new, open or waiting) counts under its queue, assignee, store,
# whether its SLA runs, and its SLA due hour in UTC: -1 under its old key, +1 under its new one.
CREATE = """
CREATE FUNCTION tickets_inquiry_tally() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND (OLD.status, OLD.merged_into_id, OLD.queue_id, OLD.assignee_id,
                             OLD.store_id, OLD.sla_due_at)
        IS NOT DISTINCT FROM (NEW.status, NEW.merged_into_id, NEW.queue_id, NEW.assignee_id,
                              NEW.store_id, NEW.sla_due_at) THEN
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' AND OLD.merged_into_id IS NULL AND OLD.status IN ('new', 'open', 'waiting') THEN
        INSERT INTO tickets_openinquirytally (queue_id, assignee_id, store_id, running, due_hour, change)
        VALUES (OLD.queue_id, OLD.assignee_id, OLD.store_id, OLD.status <> 'waiting',
            date_trunc('hour', OLD.sla_due_at, 'UTC'), -1);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.merged_into_id IS NULL AND NEW.status IN ('new', 'open', 'waiting') THEN
        INSERT INTO tickets_openinquirytally (queue_id, assignee_id, store_id, running, due_hour, change)
        VALUES (NEW.queue_id, NEW.assignee_id, NEW.store_id, NEW.status <> 'waiting',
            date_trunc('hour', NEW.sla_due_at, 'UTC'), 1);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER tickets_inquiry_tally AFTER INSERT OR UPDATE OR DELETE ON tickets_inquiry
    FOR EACH ROW EXECUTE FUNCTION tickets_inquiry_tally();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS tickets_inquiry_tally ON tickets_inquiry")
    schema_editor.execute("DROP FUNCTION IF EXISTS tickets_inquiry_tally()")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_queue_sla_due"),
    ]

    operations = [
        migrations.CreateModel(
            name="OpenInquiryTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("queue_id", models.BigIntegerField(null=True)),
                ("assignee_id", models.BigIntegerField(null=True)),
                ("store_id", models.BigIntegerField(null=True)),
                ("running", models.BooleanField()),
                ("due_hour", models.DateTimeField(null=True)),
                ("change", models.IntegerField()),
            ],
        ),
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
