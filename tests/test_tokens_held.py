"""`tokens.held_token`: the one test, Register's shape or the loose one, of text shown back and `ledger forget`'s
ids (review229 F5: each combined the two tests itself)."""

from __future__ import annotations

from register_batch.tokens import MASK, held_token, masked_token_words

TOKEN = "sandbox_" + "0df48794ae2c9f55" * 4


def test_one_token_test_for_shown_back_text_and_ledger_forgets_ids():
    """review229 F5: `ledger forget`'s ids and masked_token_words each combined Register's shape (glued) and the loose
    test; both are `held_token` now."""
    assert held_token(f"REGISTER_API_TOKEN={TOKEN}") == len(TOKEN)
    assert held_token("x" * 40 + "12345678") == 48
    assert held_token("2500464679258") is None
    assert masked_token_words(f"?token={TOKEN}&n=1") == f"?token={MASK}&n=1"
