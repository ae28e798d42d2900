"""Background work of inquiries. Tasks take ids, call a service, and are safe to repeat."""

from celery import shared_task

from tickets.services import acknowledgement, routing


@shared_task(name="tickets.route_inquiry", acks_late=True)
def route_inquiry(inquiry_id: int) -> None:
    """Route a new inquiry, then send its acknowledgement with the routed queue's answer time."""
    routing.inquiry_route(inquiry_id=inquiry_id)
    acknowledgement.acknowledgement_release(inquiry_id=inquiry_id)
