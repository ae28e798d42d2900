from django.db import migrations


def create_default_queue(apps, schema_editor):
    Queue = apps.get_model("tickets", "Queue")
    if not Queue.objects.filter(is_default=True).exists():
        Queue.objects.create(
            name="Customer Service",
            slug="service",
            description="Everything no routing rule sends elsewhere.",
            is_default=True,
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_inquiries")]

    operations = [migrations.RunPython(create_default_queue, migrations.RunPython.noop)]
