from email.utils import formatdate

from dlpo.engines.retry import parse_retry_after


def test_seconds_and_ms():
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "2.5"}) == 2.5
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "-3"}) == 0.0


def test_http_date():
    now = 1_700_000_000.0
    header = formatdate(now + 30, usegmt=True)
    assert parse_retry_after({"retry-after": header}, now=now) == 30.0
    past = formatdate(now - 30, usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=now) == 0.0


def test_absent_or_garbage():
    assert parse_retry_after(None) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
