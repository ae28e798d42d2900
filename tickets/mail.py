"""Reading inbound e-mail: one raw RFC 5322 message in, the parts an inquiry needs out.

Mail comes from strangers, so the parser assumes the worst: bytes in no charset or a wrong one,
thousands of MIME parts, megabytes of headers, encoded words that decode to line breaks, markup
nested a hundred thousand deep. The standard library's `email` package does the parsing
(`policy.default`), kept to time linear in the message's size: every header value it parses is cut
to a length its parser handles quickly (parsing a structured header is quadratic in its length),
header look-ups use an index, nesting of parts is bounded, the walk over the parts is capped, and
HTML too deeply nested to sanitise quickly is kept as text only. Any failure becomes the one
documented error, MessageRejected.
"""

import codecs
import hashlib
import html as html_entities
import mimetypes
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.policy import EmailPolicy
from io import BytesIO
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm.services import subject_line
from tickets.services.inquiries import TEXT_MAX_LENGTH, AttachmentFile

# One header value is cut to this many characters before it is parsed.
HEADER_MAX_CHARS = 8 * 1024
# All header values parsed for one message together: past it, values are read as empty.
HEADER_PARSE_BUDGET = 512 * 1024
# Parts looked at; a message with more keeps the first ones.
MAX_PARTS = 500
# The parser checks every line against the boundary of each multipart it is inside: the
# number of multipart and message parts read as such is bounded by the number of lines, so that
# lines x parts stays under NESTING_WORK; the rest are read as opaque attachments.
MAX_CONTAINERS = 200
MIN_CONTAINERS = 3
NESTING_WORK = 10_000_000
CONTAINER_TYPE = re.compile(rb"(content-type:\s*)(multipart|message)/", re.IGNORECASE)
MAX_ATTACHMENTS = 100
MAX_ADDRESSES = 100
MAX_REFERENCES = 50
# The HTML part is cut to this many characters before it is sanitised.
HTML_MAX_CHARS = 256 * 1024
HTML_MAX_DEPTH = 300
# How much of an oversized message is read to answer its sender.
HEADER_PEEK_BYTES = 256 * 1024
MESSAGE_ID_MAX_LENGTH = 255

AUTOMATED_PRECEDENCE = frozenset({"bulk", "list", "junk", "auto_reply"})
# Local parts of senders that are machines (RFC 3834 §5, and common practice).
AUTOMATED_SENDER = re.compile(
    r"^(mailer-daemon|postmaster|no[-_.]?reply|do[-_.]?not[-_.]?reply)([-+_.].*)?$", re.IGNORECASE
)
MESSAGE_ID = re.compile(r"<([^<>\s]{1,998})>")
# Text encodings that are not really charsets, or decode in quadratic time.
UNSAFE_CODECS = frozenset({"punycode", "idna", "unicode_escape", "raw_unicode_escape", "undefined"})
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
HTML_TAGS = nh3.ALLOWED_TAGS - {"img", "area", "map"}
HTML_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "title", "head", "template", "noscript", "iframe", "object", "embed"}
)
HTML_BLOCK = re.compile(
    r"<br\s*/?>|</?(p|div|li|tr|h[1-6]|blockquote|pre|table)\b[^<>]*>", re.IGNORECASE
)
# [^<>]: a '<' that never closes costs one scan to the next '<', not to the end of the text.
HTML_TAG = re.compile(r"<[^<>]*>")
HTML_OPEN_OR_CLOSE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]{0,20})\b[^<>]*?(/?)>")
# Void elements, and those a parser closes by itself when the next one starts.
HTML_SELF_CLOSING = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot"}
    | {"option", "optgroup", "rb", "rt", "rtc", "rp", "colgroup", "caption", "html", "head"}
    | {"body"}
)
BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


class MessageRejected(Exception):
    """The message cannot be taken in: too large, no usable sender, or unparseable. `parsed` holds
    what its headers said when they could be read (to answer the sender of an oversized one)."""

    TOO_LARGE = "too_large"
    NO_SENDER = "no_sender"
    UNPARSEABLE = "unparseable"

    def __init__(
        self, reason: str, *, code: str, parsed: "ParsedEmail | None" = None, size: int = 0
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.parsed = parsed
        self.size = size


@dataclass(frozen=True)
class Bounce:
    """What a delivery report (RFC 3464) says about mail we sent."""

    failed_recipients: tuple[str, ...] = ()
    original_message_id: str = ""
    status: str = ""
    diagnostic: str = ""

    @property
    def reason(self) -> str:
        return " ".join(part for part in (self.status, self.diagnostic) if part) or "Bounced"


@dataclass
class ParsedEmail:
    message_id: str
    from_address: str
    from_name: str = ""
    subject: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    html: str = ""
    attachments: list[AttachmentFile] = field(default_factory=list)
    dropped_attachments: list[str] = field(default_factory=list)
    automated_reason: str = ""
    bounce: Bounce | None = None
    # The message had no Message-ID: message_id is made from its bytes.
    synthetic_id: bool = False

    @property
    def thread_ids(self) -> list[str]:
        """Ids this message answers, most telling first: In-Reply-To, then References from the
        newest back."""
        return list(dict.fromkeys([*self.in_reply_to, *reversed(self.references)]))


class _Budget:
    """What is left of one message's header parsing, and the headers parsed so far (the parser
    asks for a part's Content-Type several times)."""

    def __init__(self) -> None:
        self.remaining = HEADER_PARSE_BUDGET
        self.parsed: dict[tuple[str, str], Any] = {}


class _BoundedPolicy(EmailPolicy):
    """policy.default, but each header value is cut to HEADER_MAX_CHARS before it is parsed and
    the total parsed per message is bounded; a value the header parser chokes on (nesting deep
    enough to exhaust the stack) reads as empty."""

    budget: _Budget | None = None

    def header_fetch_parse(self, name: str, value: str) -> Any:
        if hasattr(value, "name") or self.budget is None:
            return super().header_fetch_parse(name, value)
        budget = self.budget
        key = (name.lower(), value)
        if key in budget.parsed:
            return budget.parsed[key]
        value = value[: max(0, min(HEADER_MAX_CHARS, budget.remaining))]
        budget.remaining -= len(value)
        try:
            header = super().header_fetch_parse(name, value)
        except Exception:  # any parser failure is a malformed header
            header = super().header_fetch_parse(name, "")
        if len(budget.parsed) < 4 * MAX_PARTS:
            budget.parsed[key] = header
        return header


class _IndexedMessage(EmailMessage):
    """EmailMessage whose header look-ups by name read an index instead of scanning every header:
    the parser and the walk ask each part for its Content-Type and friends several times, and a
    hostile part has hundreds of thousands of headers."""

    _index: dict[str, tuple[str, Any]] | None = None
    _indexed: tuple[int, int] = (0, -1)

    def get(self, name: str, failobj: Any = None) -> Any:
        headers = self._headers  # type: ignore[attr-defined]
        if len(headers) < 16:
            return super().get(name, failobj)
        # A rewrite of the headers either replaces the list or changes its length.
        if self._index is None or self._indexed != (id(headers), len(headers)):
            index: dict[str, tuple[str, Any]] = {}
            for key, value in headers:
                index.setdefault(key.lower(), (key, value))
            self._index, self._indexed = index, (id(headers), len(headers))
        found = self._index.get(name.lower())
        if found is None:
            return failobj
        return self.policy.header_fetch_parse(*found)

    def replace_header(self, _name: str, _value: Any) -> None:
        self._index = None
        super().replace_header(_name, _value)


def _policy() -> _BoundedPolicy:
    # refold_source="none": writing a part back out never re-parses its headers. A fresh budget
    # for each message (policies accept any attribute their class declares).
    return _BoundedPolicy(refold_source="none").clone(budget=_Budget())  # type: ignore[call-arg]


# Helpers on text from outside.


def _unmangle(value: str) -> str:
    """8-bit header bytes arrive as surrogate escapes: most are UTF-8 (RFC 6532), else Windows."""
    if not any("\udc80" <= char <= "\udcff" for char in value):
        return value
    raw = value.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def _one_line(value: str, limit: int) -> str:
    """A header's text as one line of printable characters (no line breaks: CVE-2024-6923), and
    no bidirectional overrides, which could make a name or file name read as something else."""
    value = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp", "Cs") else char
        for char in _unmangle(value)
        if char not in BIDI_CONTROLS
    )
    return subject_line(value)[:limit]


def _body_text(value: str) -> str:
    """A body's text without NULs and stray control characters (PostgreSQL refuses NUL)."""
    return "".join(
        char
        for char in value
        if char in "\t\n" or unicodedata.category(char) not in ("Cc", "Cs", "Co")
    )


class _Headers:
    """The first value of each header of one message or part, read in one pass: asking a Message
    for a header scans all of them every time, and a hostile message has millions."""

    def __init__(self, message: Message) -> None:
        self.policy = message.policy
        self.raw: dict[str, str] = {}
        for name, value in message.raw_items():
            self.raw.setdefault(name.lower(), str(value))

    def __contains__(self, name: str) -> bool:
        return name.lower() in self.raw

    def parsed(self, name: str) -> Any:
        """The header parsed by the message's policy, or None if missing or malformed."""
        value = self.raw.get(name.lower())
        if value is None:
            return None
        try:
            return self.policy.header_fetch_parse(name, value)
        except Exception:  # a malformed header reads as missing
            return None

    def text(self, name: str) -> str:
        value = self.parsed(name)
        return "" if value is None else str(value)


def _ids(value: str, limit: int) -> list[str]:
    found = MESSAGE_ID.findall(value)
    if not found and value.strip() and len(value.split()) == 1:
        found = [value.strip()]  # some programs leave the brackets off
    ids = [_one_line(found_id, MESSAGE_ID_MAX_LENGTH) for found_id in found]
    return list(dict.fromkeys(found_id for found_id in ids if found_id))[-limit:]


def _address(value: str) -> str:
    """A lower-cased addr-spec that Django accepts, or ""."""
    address = _unmangle(value).strip().strip("<>").strip().lower()
    if not address or len(address) > 254 or not address.isprintable() or " " in address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _mailboxes(headers: _Headers, name: str) -> list[tuple[str, str]]:
    """(address, display name) of each valid mailbox of an address header."""
    try:
        mailboxes = list(getattr(headers.parsed(name), "addresses", None) or ())
    except Exception:  # a malformed header reads as missing
        return []
    found = []
    for mailbox in mailboxes[:MAX_ADDRESSES]:
        address = _address(f"{mailbox.username}@{mailbox.domain}")
        if address:
            found.append((address, _one_line(mailbox.display_name or "", 200)))
    return found


def _addresses(headers: _Headers, name: str) -> list[str]:
    return list(dict.fromkeys(address for address, _ in _mailboxes(headers, name)))


def _date(headers: _Headers) -> datetime | None:
    try:
        value = getattr(headers.parsed("Date"), "datetime", None)
    except Exception:  # an unreadable date is no date
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _decode(payload: bytes, charset: str) -> str:
    """Text of a body part: its declared charset if that reads the bytes, else UTF-8, else
    Windows-1252 (what mislabelled mail most often is), else the declared charset with
    replacement characters."""
    codec = ""
    try:
        info = codecs.lookup(charset)
        if getattr(info, "_is_text_encoding", True) and info.name not in UNSAFE_CODECS:
            codec = info.name
    except (LookupError, ValueError):
        pass
    for candidate in dict.fromkeys(name for name in (codec, "utf-8", "cp1252") if name):
        try:
            return payload.decode(candidate)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
    return payload.decode(codec or "cp1252", "replace")


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding: take what is there
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:
        charset = "utf-8"
    return _decode(_payload_bytes(part), charset)


def message_bytes(message: Message) -> bytes:
    """A parsed message written back out as bytes, headers as they came; b"" if it can't be."""
    buffer = BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, policy=_policy()).flatten(message)
    except Exception:  # a message too broken to write out is unparseable
        return b""
    return buffer.getvalue()


# Walking the parts.


def _leaves(root: Message) -> Iterator[Message]:
    """The parts that hold content, in order, without recursion and at most MAX_PARTS looked at.
    Attached messages (message/rfc822) are leaves: their text is not this message's text."""
    stack = [root]
    looked_at = 0
    while stack and looked_at < MAX_PARTS:
        part = stack.pop()
        looked_at += 1
        if _content_type(part).startswith("multipart/"):
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(reversed([child for child in children if isinstance(child, Message)]))
            continue
        yield part


def _filename(part: Message, content_type: str) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    name = _one_line(str(name), 255).replace("\\", "/").rsplit("/", 1)[-1].strip(" .")
    if name:
        return name
    if content_type == "message/rfc822":
        return "message.eml"
    return "attachment" + (mimetypes.guess_extension(content_type) or ".bin")


def _is_file(part: Message, disposition: str | None) -> bool:
    """A text part sent as a file (attached, or named) rather than as the message's body."""
    if disposition == "attachment":
        return True
    try:
        return part.get_filename() is not None
    except Exception:
        return True


def _attachment_content(part: Message, content_type: str) -> bytes:
    if content_type == "message/rfc822" or part.is_multipart():
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return message_bytes(inner[0])
        return b""
    return _payload_bytes(part)


def human_size(size: int) -> str:
    """ "2.5 MB", "25 MB", "12 KB": a size as a sender reads it."""
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f}".removesuffix(".0") + " MB"
    return f"{max(1, round(size / 1024))} KB"


@dataclass
class _Body:
    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[AttachmentFile] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    delivery_status: list[Message] = field(default_factory=list)
    returned_headers: list[Message] = field(default_factory=list)


def _read_body(root: Message) -> _Body:
    body = _Body()
    limit = settings.CRM_ATTACHMENT_MAX_BYTES
    for part in _leaves(root):
        content_type = _content_type(part)
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = "attachment"
        if content_type in ("text/plain", "text/html") and not _is_file(part, disposition):
            (body.texts if content_type == "text/plain" else body.htmls).append(_part_text(part))
            continue
        if content_type == "message/delivery-status":
            blocks = part.get_payload()
            if isinstance(blocks, list):
                body.delivery_status.extend(block for block in blocks if isinstance(block, Message))
            continue
        if content_type == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                body.returned_headers.append(inner[0])
        elif content_type == "text/rfc822-headers":
            try:
                headers = HeaderParser(_IndexedMessage, policy=_policy()).parsestr(
                    _part_text(part)[:HEADER_PEEK_BYTES]
                )
            except Exception:
                headers = None
            if headers is not None:
                body.returned_headers.append(headers)
        name = _filename(part, content_type)
        content = _attachment_content(part, content_type)
        if len(content) > limit:
            body.dropped.append(f"{name} ({human_size(len(content))})")
        elif len(body.attachments) >= MAX_ATTACHMENTS:
            body.dropped.append(f"{name} (more than {MAX_ATTACHMENTS} attachments)")
        else:
            body.attachments.append(AttachmentFile(name, content_type, content))
    return body


def _too_deeply_nested(markup: str) -> bool:
    """Whether elements nest deeper than an HTML parser handles in reasonable time (its work
    grows with the square of the depth). Elements that close themselves don't count."""
    depth = 0
    for match in HTML_OPEN_OR_CLOSE.finditer(markup):
        closing, name, self_closing = match.groups()
        if self_closing or name.lower() in HTML_SELF_CLOSING:
            continue
        depth = max(0, depth - 1) if closing else depth + 1
        if depth > HTML_MAX_DEPTH:
            return True
    return False


def sanitise_html(markup: str) -> str:
    """HTML from a stranger, made safe to show: no scripts, styles, event handlers, forms or
    images (a remote image tells the sender when the mail is read), links only to the web."""
    return nh3.clean(
        markup,
        tags=set(HTML_TAGS),
        clean_content_tags=set(HTML_DROPPED_WITH_CONTENT),
        url_schemes={"http", "https", "mailto"},
        # A relative link would point into this application.
        url_relative="deny",
        link_rel="noopener noreferrer nofollow",
    )


def html_to_text(markup: str) -> str:
    """Readable text of HTML: line breaks around blocks, tags gone, entities decoded."""
    text = html_entities.unescape(HTML_TAG.sub("", HTML_BLOCK.sub("\n", markup)))
    lines = (" ".join(line.split()) for line in text.replace("\xa0", " ").splitlines())
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _read_html(markup: str) -> tuple[str, str]:
    """The sanitised HTML (cut to HTML_MAX_CHARS, as mail programs clip long mail) and its text.
    HTML nested too deep to sanitise in time is kept as text only."""
    markup = markup[:HTML_MAX_CHARS]
    if _too_deeply_nested(markup):
        return "", html_to_text(markup)
    clean = sanitise_html(markup)
    return clean, html_to_text(clean)


# Automated mail and bounces.


def _automated_reason(headers: _Headers, sender: str, content_type: str) -> str:
    """Why this message is from a machine (RFC 3834 and the usual markers), or ""."""
    auto_submitted = _one_line(headers.text("Auto-Submitted"), 100)
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return f"Auto-Submitted: {auto_submitted}"
    precedence = _one_line(headers.text("Precedence"), 100)
    if precedence.lower() in AUTOMATED_PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id"):
        if name in headers:
            return f"{name}: {_one_line(headers.text(name), 100)}".strip(": ")
    if "List-Unsubscribe" in headers:
        return "List-Unsubscribe (mailing list)"
    local_part = sender.rpartition("@")[0] if "@" in sender else sender
    if local_part and AUTOMATED_SENDER.match(local_part):
        return f"Sent by {sender}"
    if content_type == "multipart/report":
        return "Delivery or read report (multipart/report)"
    if headers.raw.get("return-path", "").strip() == "<>":
        return "Empty Return-Path (a bounce)"
    return ""


def _report_recipient(value: str) -> str:
    # "rfc822; ann@example.com"
    return _address(_one_line(value, 300).rpartition(";")[2])


def _bounce(message: Message, body: _Body) -> Bounce | None:
    if _content_type(message) != "multipart/report":
        return None
    try:
        report_type = str(message.get_param("report-type") or "").lower()
    except Exception:
        report_type = ""
    if report_type and report_type != "delivery-status" and not body.delivery_status:
        return None
    failed: list[str] = []
    status = diagnostic = ""
    for block in map(_Headers, body.delivery_status):
        action = _one_line(block.text("Action"), 50).lower()
        block_status = _one_line(block.text("Status"), 50)
        if action not in ("", "failed") or (not action and not block_status.startswith("5")):
            continue
        for name in ("Final-Recipient", "Original-Recipient"):
            recipient = _report_recipient(block.text(name))
            if recipient and recipient not in failed:
                failed.append(recipient)
        status = status or block_status
        diagnostic = diagnostic or _one_line(block.text("Diagnostic-Code"), 200)
    original = ""
    for returned in body.returned_headers:
        found = _ids(_Headers(returned).raw.get("message-id", ""), 1)
        if found:
            original = found[0]
            break
    return Bounce(tuple(failed[:MAX_ADDRESSES]), original, status, diagnostic)


# The message.


def _sender(headers: _Headers) -> tuple[str, str]:
    for name in ("From", "Sender", "Reply-To"):
        mailboxes = _mailboxes(headers, name)
        if mailboxes:
            return mailboxes[0]
    return "", ""


def _message_id(headers: _Headers, raw: bytes) -> tuple[str, bool]:
    found = _ids(headers.raw.get("message-id", ""), 1)
    if found:
        return found[0], False
    # No Message-ID: one made from the bytes, so that a redelivery still finds its first copy.
    return f"{hashlib.sha256(raw).hexdigest()}@message-id.invalid", True


def _headers_of(message: Message, raw: bytes) -> ParsedEmail:
    headers = _Headers(message)
    from_address, from_name = _sender(headers)
    message_id, synthetic = _message_id(headers, raw)
    content_type = _content_type(message)
    return ParsedEmail(
        message_id=message_id,
        synthetic_id=synthetic,
        from_address=from_address,
        from_name=from_name,
        subject=_one_line(headers.text("Subject"), 1000),
        in_reply_to=_ids(headers.raw.get("in-reply-to", ""), 5),
        references=_ids(headers.raw.get("references", ""), MAX_REFERENCES),
        to=_addresses(headers, "To"),
        cc=_addresses(headers, "Cc"),
        date=_date(headers),
        automated_reason=_automated_reason(headers, from_address, content_type),
    )


def _flatten_deep_nesting(raw: bytes) -> bytes:
    """Past the multipart or message parts the parser can afford, the rest read as attachments."""
    allowed = min(MAX_CONTAINERS, max(MIN_CONTAINERS, NESTING_WORK // (raw.count(b"\n") + 1)))
    seen = 0

    def flatten(match: re.Match[bytes]) -> bytes:
        nonlocal seen
        seen += 1
        if seen <= allowed:
            return match.group(0)
        return match.group(1) + b"application/x-nested-" + match.group(2) + b"-"

    return CONTAINER_TYPE.sub(flatten, raw)


def parse_headers(head: bytes) -> ParsedEmail | None:
    """What the header section of a message says (for one too large to read whole), or None."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end >= 0:
            head = head[:end]
            break
    head = head[:HEADER_PEEK_BYTES]
    try:
        message = BytesHeaderParser(_IndexedMessage, policy=_policy()).parsebytes(head)
        return _headers_of(message, head)
    except Exception:  # headers too broken to answer: nobody is answered
        return None


def too_large(*, head: bytes, size: int) -> MessageRejected:
    """The rejection of a message of `size` bytes over CRM_INBOUND_MAX_BYTES, from its start."""
    limit = settings.CRM_INBOUND_MAX_BYTES
    return MessageRejected(
        f"The message is {human_size(size)}; messages of up to {human_size(limit)} are accepted.",
        code=MessageRejected.TOO_LARGE,
        parsed=parse_headers(head),
        size=size,
    )


def _texts(body: _Body) -> tuple[str, str]:
    """The message's text and sanitised HTML; the text comes from the HTML if there is none."""
    html, html_text = _read_html(_body_text("\n".join(body.htmls)))
    texts = (part.replace("\r\n", "\n").replace("\r", "\n") for part in body.texts)
    text = "\n\n".join(part.strip("\n") for part in texts if part.strip())
    if not text.strip():
        text = html_text
    return _body_text(text[:TEXT_MAX_LENGTH]), _body_text(html)


def parse_email(raw: bytes) -> ParsedEmail:
    """Parse one raw message. Raises MessageRejected, and nothing else, when it is larger than
    CRM_INBOUND_MAX_BYTES, has no usable sender (except a delivery report), or can't be read."""
    if len(raw) > settings.CRM_INBOUND_MAX_BYTES:
        raise too_large(head=raw[:HEADER_PEEK_BYTES], size=len(raw))
    try:
        bounded = _policy()
        message = BytesParser(_IndexedMessage, policy=bounded).parsebytes(
            _flatten_deep_nesting(raw)
        )
        if bounded.budget is not None:
            # The parser's own reading of the parts used up the budget: the headers this message
            # is known by get a fresh one.
            bounded.budget.remaining = HEADER_PARSE_BUDGET
        parsed = _headers_of(message, raw)
        body = _read_body(message)
        parsed.bounce = _bounce(message, body)
        parsed.text, parsed.html = _texts(body)
    except Exception as error:  # whatever breaks in there, the mail is unreadable
        raise MessageRejected(
            "The message could not be read as e-mail.", code=MessageRejected.UNPARSEABLE
        ) from error
    if not parsed.from_address and parsed.bounce is None:
        raise MessageRejected(
            "The message has no sender address to answer.",
            code=MessageRejected.NO_SENDER,
            parsed=parsed,
        )
    parsed.attachments = body.attachments
    parsed.dropped_attachments = body.dropped
    return parsed
