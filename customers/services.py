"""Every write to the customer record: identity resolution, merges, comments, the timeline."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from crm.models import AuditEntry, Channel, Role, User
from crm.permissions import can_comment, can_merge_customers, is_store_staff
from crm.services import audit_entry, audit_record, enqueue_after_commit
from crm.webhooks import webhook_event_emit
from customers.identifiers import (
    external_value,
    normalize_email,
    normalize_loyalty,
    normalize_phone,
)
from customers.insights.services import (
    insight_discard,
    insight_refresh_after_commit,
    insights_refresh_after_commit,
)
from customers.models import (
    COMMENT_MAX_LENGTH,
    Activity,
    ActivityKind,
    Comment,
    ContactKind,
    ContactPoint,
    Customer,
    MergeSuggestion,
    MergeSuggestionStatus,
)
from stores.models import Store


@dataclass(frozen=True)
class Identity:
    """What an intake path knows about a person. Any identifier may be blank."""

    email: str = ""
    phone: str = ""
    loyalty_number: str = ""
    external_ids: Mapping[str, str] = field(default_factory=dict)
    first_name: str = ""
    last_name: str = ""
    address_line1: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""

    def contact_points(self) -> list[tuple[str, str]]:
        """Normalised (kind, value) pairs, strongest identifier first; field errors together."""
        points: list[tuple[str, str]] = []
        errors: dict[str, list[str]] = {}
        for system, external_id in self.external_ids.items():
            _collect(
                points,
                errors,
                "external_ids",
                ContactKind.EXTERNAL,
                lambda s=system, i=external_id: external_value(s, i),
            )
        if self.loyalty_number.strip():
            _collect(
                points,
                errors,
                "loyalty_number",
                ContactKind.LOYALTY,
                lambda: normalize_loyalty(self.loyalty_number),
            )
        if self.email.strip():
            _collect(
                points, errors, "email", ContactKind.EMAIL, lambda: normalize_email(self.email)
            )
        if self.phone.strip():
            _collect(
                points, errors, "phone", ContactKind.PHONE, lambda: normalize_phone(self.phone)
            )
        if errors:
            raise ValidationError(errors)
        if not points:
            raise ValidationError(
                "An e-mail address, phone number, loyalty card number or external id is needed "
                "to identify the customer."
            )
        return list(dict.fromkeys(points))


def _collect(points, errors, name, kind, normalise) -> None:
    try:
        points.append((kind, normalise()))
    except ValidationError as error:
        errors.setdefault(name, []).extend(error.messages)


@dataclass
class Resolution:
    customer: Customer
    created: bool
    # Other existing customers that share one of the identifiers; recorded as merge suggestions.
    conflicts: list[Customer]


_NAME_AND_ADDRESS = ("first_name", "last_name", "address_line1", "city", "postcode", "country")


def customer_resolve(
    *,
    identity: Identity,
    source: str,
    store: Store | None = None,
    occurred_at: datetime | None = None,
    actor: User | None = None,
) -> Resolution:
    """Find the one customer these identifiers belong to, or create her, attaching new contact
    points. Identifiers that point at two different customers never join them: the first match
    (strongest identifier) wins and the others are reported as merge suggestions."""
    points = identity.contact_points()
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _resolve(identity, points, source, store, occurred_at, actor)
        except IntegrityError:
            # A concurrent intake stored one of these contact points first: look again.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _resolve(
    identity: Identity,
    points: list[tuple[str, str]],
    source: str,
    store: Store | None,
    occurred_at: datetime | None,
    actor: User | None,
) -> Resolution:
    match = models.Q()
    for kind, value in points:
        match |= models.Q(kind=kind, value=value)
    known = {
        (cp.kind, cp.value): cp
        for cp in ContactPoint.objects.filter(match).select_related("customer")
    }

    customers: list[Customer] = []
    for point in points:
        if point in known and known[point].customer not in customers:
            customers.append(known[point].customer)
    new_points = [point for point in points if point not in known]

    if not customers:
        customer = _customer_new(identity, store, occurred_at)
        customer.save()
        _add_contact_points(customer, new_points, source)
        _find_merge_suggestions_after_commit(customer)
        _customer_created_audit(customer, new_points, source, actor).save()
        return Resolution(customer=customer, created=True, conflicts=[])

    customer, conflicts = customers[0], customers[1:]
    filled = _fillable(customer, identity, store)
    for name in filled:
        if name == "home_store":
            customer.home_store = store
        else:
            setattr(customer, name, getattr(identity, name).strip())
    if filled:
        customer.set_search_names()
        customer.save(update_fields=[*filled, "search_name", "search_name_reversed", "updated_at"])
        _find_merge_suggestions_after_commit(customer)
    if filled or new_points:
        audit_record(
            actor=actor,
            action="customer.update",
            obj=customer,
            data={
                "source": source,
                "changes": {
                    name: {"before": "", "after": str(getattr(customer, name))} for name in filled
                },
                "contact_points_added": [f"{kind}:{value}" for kind, value in new_points],
            },
        )
    if new_points:
        _add_contact_points(customer, new_points, source)
        activity_record(
            customer=customer,
            kind=ActivityKind.CONTACT_ADDED,
            channel=source,
            store=store,
            actor=actor,
            occurred_at=occurred_at,
            summary="Added "
            + ", ".join(f"{ContactKind(k).label.lower()} {v}" for k, v in new_points),
        )
    for other in conflicts:
        shared = [
            f"{ContactKind(k).label.lower()} {v}"
            for k, v in points
            if k != ContactKind.EXTERNAL
            and known.get((k, v)) is not None
            and known[(k, v)].customer == other
        ]
        merge_suggestion_record(
            first=customer, second=other, reason="Shared " + (", ".join(shared) or "external id")
        )
    return Resolution(customer=customer, created=False, conflicts=conflicts)


def _customer_new(identity: Identity, store: Store | None, since: datetime | None) -> Customer:
    """An unsaved customer made from what an intake knows about her."""
    customer = Customer(
        **{name: getattr(identity, name).strip() for name in _NAME_AND_ADDRESS},
        home_store=store,
        customer_since=since or timezone.now(),
    )
    customer.set_search_names()
    return customer


def _customer_created_audit(
    customer: Customer, points: list[tuple[str, str]], source: str, actor: User | None
) -> AuditEntry:
    return audit_entry(
        actor=actor,
        action="customer.create",
        obj=customer,
        data={
            "source": source,
            "changes": {
                name: {"before": "", "after": getattr(customer, name)}
                for name in _NAME_AND_ADDRESS
                if getattr(customer, name)
            },
            "contact_points_added": [f"{kind}:{value}" for kind, value in points],
        },
    )


def _fillable(customer: Customer, identity: Identity, store: Store | None) -> list[str]:
    """What an intake adds to a known customer's record: the name and address fields she lacks
    and it gives, and a home store if she has none."""
    filled = [
        name
        for name in _NAME_AND_ADDRESS
        if not getattr(customer, name) and getattr(identity, name).strip()
    ]
    if not customer.home_store_id and store is not None:
        filled.append("home_store")
    return filled


@dataclass(frozen=True)
class Intake:
    """One person to resolve in a batch, with the channel, store and time she came through."""

    identity: Identity
    source: str
    store: Store | None = None
    occurred_at: datetime | None = None


def customers_resolve_batch(
    *, intakes: Sequence[Intake], actor: User | None = None
) -> list[Resolution | None]:
    """Resolve many intakes at once, in a few statements for all of them, where customer_resolve
    would need no judgement: none of her identifiers is known (she is created as customer_resolve
    creates her: contact points, audit entry, merge-suggestion search) or all are one customer's
    and add nothing to her record. The others are None, for customer_resolve one by one: invalid
    identifiers, an identifier that two intakes give, identifiers of two customers, or new
    identifiers or details for a known customer. Writes in the caller's transaction; an intake
    storing one of the identifiers concurrently makes it fail with IntegrityError."""
    points: list[list[tuple[str, str]] | None] = []
    for intake in intakes:
        try:
            points.append(intake.identity.contact_points())
        except ValidationError:
            points.append(None)
    given = Counter(point for each in points if each for point in each)
    by_kind: dict[str, list[str]] = {}
    for kind, value in given:
        by_kind.setdefault(kind, []).append(value)
    match = models.Q(pk__in=[])
    for kind, values in by_kind.items():
        match |= models.Q(kind=kind, value__in=values)
    known = {
        (cp.kind, cp.value): cp.customer
        for cp in ContactPoint.objects.filter(match).select_related("customer")
    }

    resolutions: list[Resolution | None] = []
    created: list[tuple[Customer, Intake, list[tuple[str, str]]]] = []
    for intake, own in zip(intakes, points, strict=True):
        owners = {known[point].pk: known[point] for point in own or () if point in known}
        if not own or any(given[point] > 1 for point in own):
            resolutions.append(None)
        elif not owners:
            customer = _customer_new(intake.identity, intake.store, intake.occurred_at)
            created.append((customer, intake, own))
            resolutions.append(Resolution(customer=customer, created=True, conflicts=[]))
        elif len(owners) == 1 and all(point in known for point in own):
            customer = next(iter(owners.values()))
            unchanged = not _fillable(customer, intake.identity, intake.store)
            resolutions.append(
                Resolution(customer=customer, created=False, conflicts=[]) if unchanged else None
            )
        else:
            resolutions.append(None)

    if created:
        Customer.objects.bulk_create([customer for customer, _, _ in created])
        ContactPoint.objects.bulk_create(
            ContactPoint(customer=customer, kind=kind, value=value, source=intake.source)
            for customer, intake, own in created
            for kind, value in own
        )
        AuditEntry.objects.bulk_create(
            _customer_created_audit(customer, own, intake.source, actor)
            for customer, intake, own in created
        )
        _find_merge_suggestions_after_commit(*(customer for customer, _, _ in created))
    return resolutions


def _find_merge_suggestions_after_commit(*customers: Customer) -> None:
    """A new name or address may match another record; the comparison runs in the background,
    for those whose record has something to compare (merge_suggestions_find)."""
    from customers.tasks import (  # tasks call services: import late
        find_merge_suggestions,
        find_merge_suggestions_batch,
    )

    customer_ids = [customer.pk for customer in customers if _comparable(customer)]
    # Best effort: a suggestion lost with the broker is found again at the next change.
    if len(customer_ids) == 1:
        enqueue_after_commit(find_merge_suggestions, customer_ids[0])
    elif customer_ids:
        enqueue_after_commit(find_merge_suggestions_batch, customer_ids)


def _comparable(customer: Customer) -> bool:
    """Whether a record has what twins are found by: a name, and a postcode or an address."""
    return bool(customer.search_name and (customer.postcode or customer.address_line1))


def _add_contact_points(customer: Customer, points: list[tuple[str, str]], source: str) -> None:
    ContactPoint.objects.bulk_create(
        ContactPoint(customer=customer, kind=kind, value=value, source=source)
        for kind, value in points
    )


def activity_record(
    *,
    customer: Customer,
    kind: str,
    channel: str,
    summary: str,
    detail: str = "",
    store: Store | None = None,
    actor: User | None = None,
    occurred_at: datetime | None = None,
    subject: tuple[str, str] | None = None,
) -> Activity:
    """Append one entry to the customer's timeline. Call it in the transaction of the event:
    every event that changes her insight is on her timeline, so her insight is recomputed once
    the transaction commits."""
    insight_refresh_after_commit(customer.pk)
    entry = activity_entry(
        customer=customer,
        kind=kind,
        channel=channel,
        summary=summary,
        detail=detail,
        store=store,
        actor=actor,
        occurred_at=occurred_at,
        subject=subject,
    )
    entry.save()
    return entry


def activities_record(entries: Sequence[Activity]) -> None:
    """Append many timeline entries (activity_entry) in one statement, in the transaction of
    their events; as with activity_record, each customer's insight is recomputed once it
    commits (one task for all of them)."""
    Activity.objects.bulk_create(entries)
    insights_refresh_after_commit(entry.customer_id for entry in entries)


def activity_entry(
    *,
    customer: Customer,
    kind: str,
    channel: str,
    summary: str,
    detail: str = "",
    store: Store | None = None,
    actor: User | None = None,
    occurred_at: datetime | None = None,
    subject: tuple[str, str] | None = None,
) -> Activity:
    """An unsaved timeline entry, for activities_record."""
    subject_type, subject_id = subject or ("", "")
    return Activity(
        customer=customer,
        kind=kind,
        channel=channel,
        summary=summary[:255],
        detail=detail,
        store=store,
        actor=actor,
        actor_role=actor.role if actor else "",
        occurred_at=occurred_at or timezone.now(),
        subject_type=subject_type,
        subject_id=subject_id,
    )


def merge_suggestion_record(
    *, first: Customer, second: Customer, reason: str
) -> MergeSuggestion | None:
    """Note that two records may be one person. A pair already decided stays decided."""
    if first.pk == second.pk:
        return None
    low, high = sorted((first, second), key=lambda c: c.pk)
    suggestion, _ = MergeSuggestion.objects.get_or_create(
        customer_a=low, customer_b=high, defaults={"reason": reason[:255]}
    )
    return suggestion


def merge_suggestions_find(*, customer_id: int) -> list[MergeSuggestion]:
    """Suggest merging a customer with live records of the same name and postcode or address."""
    customer = Customer.objects.filter(pk=customer_id, merged_into__isnull=True).first()
    if customer is None or not _comparable(customer):
        return []
    same_place = models.Q()
    if customer.postcode:
        same_place |= models.Q(postcode__iexact=customer.postcode)
    if customer.address_line1:
        same_place |= models.Q(address_line1__iexact=customer.address_line1)
    twins = (
        Customer.objects.filter(
            same_place, search_name=customer.search_name, merged_into__isnull=True
        )
        .exclude(pk=customer.pk)
        .order_by("pk")[:20]
    )
    suggestions = []
    for twin in twins:
        suggestion = merge_suggestion_record(
            first=customer, second=twin, reason="Same name and address"
        )
        if suggestion is not None:
            suggestions.append(suggestion)
    return suggestions


def merge_suggestion_dismiss(*, suggestion: MergeSuggestion, actor: User) -> MergeSuggestion:
    """A supervisor decides two records are different people; the pair is not suggested again."""
    if not can_merge_customers(actor):
        raise ValidationError("Only supervisors can decide on merge suggestions.")
    with transaction.atomic():
        suggestion = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.status != MergeSuggestionStatus.OPEN:
            return suggestion
        suggestion.status = MergeSuggestionStatus.DISMISSED
        suggestion.resolved_by = actor
        suggestion.resolved_at = timezone.now()
        suggestion.save(update_fields=["status", "resolved_by", "resolved_at"])
        audit_record(actor=actor, action="merge_suggestion.dismiss", obj=suggestion)
    return suggestion


# Relations to Customer that a merge must not move: the alias chain and the suggestion pairs
# are handled by the merge itself. Every other relation is moved onto the survivor.
MERGE_HANDLED_RELATIONS = {
    ("customers.customer", "merged_into"),
    ("customers.mergesuggestion", "customer_a"),
    ("customers.mergesuggestion", "customer_b"),
    # Derived from the history: the survivor's is recomputed, the merged one's dropped.
    ("customers.customerinsight", "customer"),
}


def merge_moved_relations() -> list[models.ForeignObjectRel]:
    """Every relation pointing at Customer that a merge moves, including ones added later."""
    return [
        relation
        for relation in Customer._meta.get_fields(include_hidden=True)
        if isinstance(relation, models.ForeignObjectRel)
        and (relation.related_model._meta.label_lower, relation.field.name)
        not in MERGE_HANDLED_RELATIONS
    ]


def customer_merge(*, survivor: Customer, merged: Customer, actor: User) -> Customer:
    """Move everything of `merged` onto `survivor` in one transaction. `merged` stays as an alias
    that redirects to the survivor; the merge is on the survivor's timeline and in the audit log."""
    if not can_merge_customers(actor):
        raise ValidationError("Only supervisors can merge customer records.")
    if survivor.pk == merged.pk:
        raise ValidationError("A customer cannot be merged into itself.")
    with transaction.atomic():
        locked = {
            c.pk: c
            for c in Customer.objects.select_for_update()
            .filter(pk__in=[survivor.pk, merged.pk])
            .order_by("pk")
        }
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        for customer in (survivor, merged):
            if customer.merged_into_id:
                raise ValidationError(
                    f"{customer.full_name} (#{customer.pk}) was already merged into another record."
                )
        if survivor.user_id and merged.user_id:
            raise ValidationError(
                "Both records have a customer portal login; one must be removed first."
            )

        moved: dict[str, int] = {}
        for relation in merge_moved_relations():
            if relation.one_to_one:
                continue
            name = relation.field.name
            count = relation.related_model._default_manager.filter(**{name: merged}).update(
                **{name: survivor}
            )
            moved[relation.related_model._meta.label_lower] = (
                moved.get(relation.related_model._meta.label_lower, 0) + count
            )
        Customer.objects.filter(merged_into=merged).update(merged_into=survivor)

        changed = [
            name
            for name in _NAME_AND_ADDRESS
            if not getattr(survivor, name) and getattr(merged, name)
        ]
        for name in changed:
            setattr(survivor, name, getattr(merged, name))
        if not survivor.home_store_id and merged.home_store_id:
            survivor.home_store_id = merged.home_store_id
            changed.append("home_store")
        if merged.customer_since < survivor.customer_since:
            survivor.customer_since = merged.customer_since
            changed.append("customer_since")
        user = merged.user
        if user is not None:
            merged.user = None
            merged.save(update_fields=["user"])
            survivor.user = user
            changed.append("user")
        survivor.set_search_names()
        survivor.save(update_fields=[*changed, "search_name", "search_name_reversed", "updated_at"])

        merged.merged_into = survivor
        merged.merged_at = timezone.now()
        merged.save(update_fields=["merged_into", "merged_at", "updated_at"])
        insight_discard(customer=merged)

        _merge_suggestions_after_merge(survivor, merged, actor)
        activity_record(
            customer=survivor,
            kind=ActivityKind.CUSTOMERS_MERGED,
            channel=Channel.SYSTEM,
            actor=actor,
            summary=f"Record #{merged.pk} ({merged.full_name}) merged into this one",
            detail=", ".join(
                f"{count} {label.split('.')[1]}" for label, count in sorted(moved.items()) if count
            ),
        )
        audit_record(
            actor=actor,
            action="customer.merge",
            obj=survivor,
            data={"merged_customer": merged.pk, "moved": moved},
        )
        webhook_event_emit(
            event="customer.merged", obj=survivor, data={"merged_customer_id": merged.pk}
        )
    return survivor


def _merge_suggestions_after_merge(survivor: Customer, merged: Customer, actor: User) -> None:
    pair = MergeSuggestion.objects.filter(
        customer_a=min(survivor.pk, merged.pk), customer_b=max(survivor.pk, merged.pk)
    )
    pair.update(status=MergeSuggestionStatus.MERGED, resolved_by=actor, resolved_at=timezone.now())
    others = MergeSuggestion.objects.filter(
        models.Q(customer_a=merged) | models.Q(customer_b=merged), status=MergeSuggestionStatus.OPEN
    ).select_related("customer_a", "customer_b")
    for suggestion in others:
        other = (
            suggestion.customer_b
            if suggestion.customer_a_id == merged.pk
            else suggestion.customer_a
        )
        reason = suggestion.reason
        suggestion.delete()
        merge_suggestion_record(first=survivor, second=other, reason=reason)


def comment_add(
    *, customer: Customer, author: User, body: str, store: Store | None = None
) -> Comment:
    """Staff add a plain-text note to a customer's history; store staff sign it with their store."""
    if not can_comment(author):
        raise ValidationError("Only staff can comment on a customer's history.")
    # Browsers send line breaks as CRLF; a comment is measured as the reader sees it.
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": ["Write a comment before adding it."]})
    if len(body) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {
                "body": [
                    f"A comment can be at most {COMMENT_MAX_LENGTH:,} characters; "
                    f"this one has {len(body):,}."
                ]
            }
        )
    if is_store_staff(author):
        stores = list(Store.objects.filter(memberships__user=author))
        if store is None and stores:
            store = stores[0]
        if store is not None and store not in stores:
            raise ValidationError({"store": ["You can only comment for a store you work at."]})
    channel = {
        Role.ASSOCIATE: Channel.STORE,
        Role.MANAGER: Channel.STORE,
        Role.REP: Channel.PHONE,
    }.get(Role(author.role), Channel.SYSTEM)
    with transaction.atomic():
        comment = Comment.objects.create(
            customer=customer, author=author, author_role=author.role, store=store, body=body
        )
        activity_record(
            customer=customer,
            kind=ActivityKind.COMMENT_ADDED,
            channel=channel,
            store=store,
            actor=author,
            occurred_at=comment.created_at,
            summary=f"Comment by {author}",
            detail=body,
            subject=("comment", str(comment.pk)),
        )
        audit_record(
            actor=author, action="comment.add", obj=comment, data={"customer": customer.pk}
        )
    return comment
