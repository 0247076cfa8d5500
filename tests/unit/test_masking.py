"""Masker: a secret and its wire forms (URL-encoded, inside basic-auth base64) never survive masking."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.masking import MASK, Masker

TOKEN = "ghp_S3cr3t/Token+With=Odd&Chars123"


def basic_auth(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def test_mask_replaces_the_raw_and_url_encoded_secret_when_both_appear() -> None:
    masker = Masker([TOKEN])

    text = f"token={TOKEN} url=https://x/?t={quote(TOKEN, safe='')}"

    assert masker.mask(text) == f"token={MASK} url=https://x/?t={MASK}"


@pytest.mark.parametrize("user", ["", "x-access-token", "oauth2", "gitlab-ci-token", "ab"])
def test_mask_hides_the_secret_inside_a_basic_auth_header_when_the_user_varies(user: str) -> None:
    header = basic_auth(user, TOKEN)

    masked = Masker([TOKEN]).mask(header)

    assert MASK in masked
    tail = masked.split(MASK)[-1].rstrip("=")
    assert len(tail) <= 3  # what is left encodes at most the secret's last two bytes


def test_mask_ignores_empty_and_very_short_secrets_when_given_them() -> None:
    masker = Masker([None, "", "abc"])

    assert masker.mask("abc is fine") == "abc is fine"


def test_masking_filter_masks_messages_args_and_exceptions_when_logging() -> None:
    masker = Masker([TOKEN])
    logger = logging.getLogger("mlgate.test.masking")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(masker.filter())
    logger.addHandler(handler)
    try:
        logger.warning("posting with %s", TOKEN)
        try:
            raise RuntimeError(f"401 for {TOKEN}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)

    text = "\n".join(logging.Formatter().format(record) for record in records)
    assert TOKEN not in text
    assert text.count(MASK) == 2


@given(
    secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=60),
    user=st.text(alphabet="abcdefghij-_:", max_size=12),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_mask_leaves_no_secret_when_it_is_embedded_raw_or_in_basic_auth(
    secret: str, user: str, before: str, after: str
) -> None:
    masker = Masker([secret])

    assert secret not in masker.mask(before + secret + after)
    assert MASK in masker.mask(basic_auth(user, secret))
