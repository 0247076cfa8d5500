"""Token masking: every secret, and the forms it takes on the wire, replaced by `***` in text and logs.

A token can leak in three shapes: as itself, URL-encoded (in a query string or a clone URL), and inside a
base64 `Authorization: Basic` header (`base64("user:token")`). The base64 case is handled without knowing
the user name: for each of the three byte alignments a secret can have inside the encoded string, the run of
base64 characters that depends only on the secret is masked (what stays visible at its edges encodes at
most two bytes of the secret mixed with its neighbours).

NOTE: GitHub's runner masks `::add-mask::` values in the job log only; anything posted through the API (a
comment body, an error echoed into a status) is not masked by the runner, so mlgate masks its own output.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
_MIN_SECRET = 4
_MIN_ENCODED = 8


class Masker:
    """Replaces each known secret (and its URL-encoded and base64 forms) by `***`."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            if secret:
                self.add(secret)

    def add(self, secret: str) -> None:
        """Start masking `secret`; secrets shorter than 4 characters are ignored (they would mask prose)."""
        if len(secret) < _MIN_SECRET:
            return
        self._forms.update(_wire_forms(secret))
        ordered = sorted(self._forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(form) for form in ordered))

    def mask(self, text: str) -> str:
        """`text` with every form of every secret replaced by `***`."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)

    def filter(self) -> MaskingFilter:
        """A logging.Filter that masks records passing through a handler or logger."""
        return MaskingFilter(self)


class MaskingFilter(logging.Filter):
    """Masks the formatted message, the exception text and the stack of every record it sees."""

    def __init__(self, masker: Masker) -> None:
        super().__init__()
        self._masker = masker

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._masker.mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._masker.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self._masker.mask(record.stack_info)
        return True


def _wire_forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    forms.update(_base64_cores(secret.encode()))
    return {form for form in forms if len(form) >= _MIN_SECRET}


def _base64_cores(data: bytes) -> set[str]:
    """The base64 runs that encode only bytes of `data`, for each alignment it can have in a longer string."""
    cores = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + data).decode().rstrip("=")
        start = 4 if offset else 0
        whole_groups = (offset + len(data)) // 3
        core = encoded[start : whole_groups * 4]
        if len(core) >= _MIN_ENCODED:
            cores.add(core)
    return cores
