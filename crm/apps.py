from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self) -> None:
        # Registers the integration-token scheme with drf-spectacular.
        import crm.api.schema  # noqa: F401
