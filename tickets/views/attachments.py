"""Attachment downloads. A file that came with a message is only ever served as a download, never
shown in the browser: an HTML or SVG file from a stranger must not run as our page."""

import unicodedata
from typing import cast

from django.http import FileResponse, Http404, HttpRequest
from django.views.decorators.http import require_GET

from crm.models import User
from crm.permissions import is_staff_member
from tickets.models import Attachment, MessageKind
from tickets.selectors.workspace import visible_inquiries

# Types a browser would render or run even as a download's preview: served as opaque bytes.
ACTIVE_CONTENT_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "text/ecmascript",
        "application/ecmascript",
        "text/css",
        "application/pdf+html",
        "multipart/x-mixed-replace",
    }
)
FILENAME_MAX_LENGTH = 150


def safe_filename(name: str) -> str:
    """The sender's file name without paths, control characters or quotes: it goes into a header."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(char).startswith(("C", "Z")) else char for char in name
    )
    name = " ".join(name.replace('"', "'").split()).strip(" .")
    return name[:FILENAME_MAX_LENGTH] or "attachment"


def served_content_type(content_type: str) -> str:
    content_type = content_type.split(";", 1)[0].strip().lower()
    if (
        not content_type
        or "/" not in content_type
        or content_type in ACTIVE_CONTENT_TYPES
        or content_type.endswith(("+xml", "/xml"))
        or "script" in content_type
    ):
        return "application/octet-stream"
    return content_type


def attachment_response(attachment: Attachment) -> FileResponse:
    """Serve an attachment as a download under a safe name, never sniffed or rendered inline."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file of this attachment is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=safe_filename(attachment.filename),
        content_type=served_content_type(attachment.content_type),
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Belt and braces for browsers that would show it anyway: no scripts, no same-origin access.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def download(request: HttpRequest, pk: int) -> FileResponse:
    """Staff may download the attachments of the inquiries they may open (the call center all,
    store staff their stores'); a signed-in customer those of the public messages of her own
    inquiries. Anyone else gets a plain 404, as if it did not exist."""
    attachments = Attachment.objects.select_related("message__inquiry")
    user = request.user
    if is_staff_member(user):
        attachment = attachments.filter(pk=pk, message__inquiry__in=visible_inquiries(user)).first()
    elif user.is_authenticated and (customer := getattr(cast(User, user), "customer", None)):
        attachment = (
            attachments.filter(pk=pk, message__inquiry__customer=customer)
            .exclude(message__kind=MessageKind.NOTE)
            .first()
        )
    else:
        attachment = None
    if attachment is None:
        raise Http404("No such attachment.")
    return attachment_response(attachment)
