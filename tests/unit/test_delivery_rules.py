"""The delivery rules that need no server: backoff and how the email service's answers map."""

import pytest

from app.services.delivery import PermanentDeliveryError, RetryableDeliveryError, retry_delay
from app.services.email_sender import check_answer


@pytest.mark.parametrize("base, cap", [(30, 3600), (5, 60)])
def test_backoff_doubles_from_the_base_up_to_the_cap(base, cap):
    delays = [retry_delay(n, base, cap).total_seconds() for n in range(1, 12)]
    assert delays[:3] == [base, 2 * base, 4 * base]
    assert max(delays) == cap and delays == sorted(delays)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_2xx_means_sent(status):
    check_answer(status, "")


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_4xx_means_give_up(status):
    with pytest.raises(PermanentDeliveryError, match=f"answered {status}: why"):
        check_answer(status, "why")


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 301, 302])
def test_429_5xx_and_redirects_mean_retry(status):
    with pytest.raises(RetryableDeliveryError, match=f"answered {status}: why"):
        check_answer(status, "why")
