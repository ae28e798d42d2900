"""manage.py ingest_email: one raw e-mail from standard input, for an MTA's pipe delivery
(Postfix: `inquiries unix - n n - - pipe flags=R user=crm argv=/app/manage.py ingest_email`)."""

import sys
from typing import Any, BinaryIO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets.mail import HEADER_PEEK_BYTES, too_large
from tickets.services.email_intake import IngestOutcome, email_ingest, email_reject

# sysexits.h: the MTA keeps the message and tries again later.
EX_TEMPFAIL = 75
CHUNK = 1024 * 1024


class Command(BaseCommand):
    help = (
        "Read one raw RFC 5322 e-mail from standard input and file it as an inquiry. Exits 0 "
        "when it was stored, was a duplicate, or was rejected for good (too large: the sender "
        "is told once); exits 75 (EX_TEMPFAIL) when it should be delivered again later."
    )
    stealth_options = ("stdin",)
    # The MTA runs this once per message. The system checks would cost each run time, and they
    # read the database's version: with the database away they would fail before the handler
    # could answer "deliver again later".
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source", default="mta", help="Where the message came from, for the audit log."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stream: BinaryIO = options.get("stdin") or sys.stdin.buffer
        limit = settings.CRM_INBOUND_MAX_BYTES
        raw = stream.read(limit + 1)
        try:
            if len(raw) > limit:
                # Read the rest without keeping it: an MTA whose pipe is closed early retries.
                size = len(raw)
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                result = email_reject(
                    rejection=too_large(head=raw[:HEADER_PEEK_BYTES], size=size),
                    source=options["source"],
                )
            else:
                result = email_ingest(raw=raw, source=options["source"])
        except Exception as error:
            # The database or the disk is away: the message stays with the MTA, which retries.
            raise CommandError(
                f"Temporary failure, deliver again later: {type(error).__name__}: {error}",
                returncode=EX_TEMPFAIL,
            ) from error
        if result.outcome == IngestOutcome.REJECTED:
            self.stderr.write(str(result))
        else:
            self.stdout.write(str(result))
