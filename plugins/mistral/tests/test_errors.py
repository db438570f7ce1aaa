"""Mistral error bodies → one line of detail."""

from __future__ import annotations

import pytest
from janito_driver_mistral.errors import body_detail


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('{"message":"Unauthorized","request_id":"abc"}', "Unauthorized"),
        ('{"detail":"Unauthorized"}', "Unauthorized"),
        (
            '{"object":"error","message":"Rate limit exceeded","type":"rate_limited",'
            '"param":null,"code":"1300"}',
            "Rate limit exceeded [type rate_limited, code 1300]",
        ),
        (
            '{"object":"error","message":{"detail":[{"type":"missing",'
            '"loc":["body","messages",0,"content"],"msg":"Field required","input":null}]},'
            '"type":"invalid_request_message_error","param":null,"code":null}',
            "messages.0.content: Field required [type invalid_request_message_error]",
        ),
        (
            '{"detail":[{"loc":["body","model"],"msg":"Field required","type":"missing"}]}',
            "model: Field required",
        ),
        ("Bad Gateway\n", "Bad Gateway"),
        ("", ""),
        ("[1, 2]", "[1, 2]"),
    ],
)
def test_body_detail(body, detail):
    assert body_detail(body) == detail


def test_long_bodies_are_clipped():
    assert len(body_detail("x" * 5000)) == 500
