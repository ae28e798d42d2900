"""The supervisors' routing rules pages: the rules in order, enable/disable, move, create and
edit with a preview against the latest inquiries before saving."""

from typing import cast

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crm.models import User
from crm.permissions import HtmxHttpRequest, can_manage_routing, require
from tickets.forms.rules import RoutingRuleForm
from tickets.models import RoutingRule
from tickets.selectors import routing as selectors
from tickets.services import routing as services


def _rule(rule_id: int) -> RoutingRule:
    rule = RoutingRule.objects.select_related("queue", "store").filter(pk=rule_id).first()
    if rule is None:
        raise Http404("No such routing rule.")
    return rule


def _list_context() -> dict[str, object]:
    return {
        "rules": selectors.routing_rules_for_page(),
        "default_queue": selectors.default_queue_name(),
    }


def _back_to_list(request: HttpRequest) -> HttpResponse:
    """htmx asks for the table only; a plain form post goes back to the page."""
    if cast(HtmxHttpRequest, request).htmx:
        return render(request, "tickets/rules/_table.html", _list_context())
    return redirect("tickets:rules")


@require(can_manage_routing)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/rules/list.html", _list_context())


def _edit(request: HttpRequest, rule: RoutingRule | None) -> HttpResponse:
    form = RoutingRuleForm(request.POST or None, instance=rule)
    previewing = request.POST.get("action") == "preview"
    context: dict[str, object] = {
        "form": form,
        "rule": rule,
        "preview": None,
        "preview_failed": False,
    }
    if request.method == "POST":
        if not form.is_valid():
            context["preview_failed"] = previewing
        elif previewing:
            context["preview"] = selectors.routing_preview(rule=form.instance)
        else:
            saved = services.routing_rule_save(rule=form.instance, actor=cast(User, request.user))
            messages.success(request, f"Rule “{saved.name}” saved.")
            return redirect("tickets:rules")
    status = 400 if form.errors else 200
    if previewing and cast(HtmxHttpRequest, request).htmx:
        # The Preview button swaps only the preview in, the form stays as typed; htmx swaps no
        # 4xx answer, so the errors come as a 200 fragment.
        return render(request, "tickets/rules/_preview.html", context)
    return render(request, "tickets/rules/form.html", context, status=status)


@require(can_manage_routing)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@require(can_manage_routing)
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    return _edit(request, _rule(rule_id))


@require_POST
@require(can_manage_routing)
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        return HttpResponse("Move a rule up or down.", status=400)
    services.routing_rule_move(rule=_rule(rule_id), offset=offset, actor=cast(User, request.user))
    return _back_to_list(request)


@require_POST
@require(can_manage_routing)
def rule_toggle(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = services.routing_rule_set_enabled(
        rule=_rule(rule_id),
        enabled=request.POST.get("enabled") == "true",
        actor=cast(User, request.user),
    )
    if not cast(HtmxHttpRequest, request).htmx:
        messages.success(
            request, f"Rule “{rule.name}” {'enabled' if rule.enabled else 'disabled'}."
        )
    return _back_to_list(request)


@require_POST
@require(can_manage_routing)
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    rule = _rule(rule_id)
    services.routing_rule_delete(rule=rule, actor=cast(User, request.user))
    messages.success(request, f"Rule “{rule.name}” deleted.")
    return redirect("tickets:rules")
