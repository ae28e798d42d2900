from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        """Staff accounts are made by an administrator; customer self sign-up is off by default
        until a verified e-mail can be linked to the customer record."""
        return bool(settings.CRM_SIGNUP_OPEN)
