"""Coverage-guided fuzzing of the e-mail parser with atheris (libFuzzer), starting from the odd
real-world mails the hypothesis test is seeded with: every input parses into a clean message or
is refused with MessageRejected. Anything else (another exception, a broken promise of
assert_clean, more than --timeout seconds on one input, more than --rss_limit_mb of memory) is a
crash: libFuzzer stops, prints the input and exits non-zero.

    .venv/bin/python tests/tickets/fuzz_mail_parser.py -runs=20000 -timeout=5 -rss_limit_mb=1024

Arguments are libFuzzer's (-max_total_time=S for a time budget); a corpus directory of seed mails
is made afresh for each run.
"""

import gc
import os
import sys
import tempfile
import types
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")

import django  # noqa: E402

django.setup()

from tests.tickets.test_mail_parser import SEEDS, assert_clean  # noqa: E402
from tickets.mail import MessageRejected, parse_email  # noqa: E402

# Coverage for what reads the mail: our parser and the standard library's email package.
for function in gc.get_objects():
    if isinstance(function, types.FunctionType) and (
        function.__module__ == "tickets.mail" or function.__module__.startswith("email")
    ):
        atheris.instrument_func(function)


def one_input(data: bytes) -> None:
    try:
        parsed = parse_email(data)
    except MessageRejected:
        return
    assert_clean(parsed)


def main() -> None:
    corpus = Path(tempfile.mkdtemp(prefix="crm-fuzz-mail-"))
    for number, seed in enumerate(SEEDS):
        (corpus / f"seed-{number}.eml").write_bytes(seed)
    atheris.Setup([*sys.argv, str(corpus)], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
