"""A Teams Workflows webhook URL as a contact method address (ADR 0008): what passes the check
when a method is added, and the mask shown instead of the URL (it is a credential)."""

from __future__ import annotations

import pytest

from backend.core.errors import ErrorCode, ValidationFailed
from backend.notifications import teams_webhook

HOSTS = ("logic.azure.com", "powerplatform.com")
SIG = "s1gnatureS3cretXyz"
CLASSIC = (
    "https://prod-42.westeurope.logic.azure.com:443/workflows/0123abcd/triggers/manual/paths/"
    f"invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
)
POWER_PLATFORM = (
    "https://default0123abcd.0a.environment.api.powerplatform.com:443/powerautomate/automations/"
    f"direct/workflows/4567ef/triggers/manual/paths/invoke?api-version=1&sig={SIG}"
)


@pytest.mark.parametrize("url", [CLASSIC, POWER_PLATFORM])
def test_workflow_urls_pass_trimmed(url: str) -> None:
    assert teams_webhook.check_url(f"  {url}\n", hosts=HOSTS) == url


@pytest.mark.parametrize(
    ("_case", "address", "reason"),
    [
        ("plain http", CLASSIC.replace("https://", "http://"), "must start with https://"),
        ("not a URL", "teams channel ops", "must start with https://"),
        ("another host", "https://hooks.example.com/workflows/1?sig=x", "is not a Microsoft"),
        ("look-alike host", "https://logic.azure.com.evil.test/w?sig=x", "is not a Microsoft"),
        ("suffix without a dot", "https://evillogic.azure.com/w?sig=x", "is not a Microsoft"),
        ("no path", "https://prod-1.westus.logic.azure.com/", "has no webhook path"),
        ("credentials", "https://u:p@prod-1.westus.logic.azure.com/w", "no usable host"),
        ("bad port", "https://prod-1.westus.logic.azure.com:99999/w", "not a valid URL"),
        ("local without the test flag", "http://127.0.0.1:8080/w", "must start with https://"),
    ],
)
def test_anything_else_is_refused_on_the_address_field(
    _case: str, address: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        teams_webhook.check_url(address, hosts=HOSTS)
    assert refused.value.code is ErrorCode.VALIDATION_FAILED
    (error,) = refused.value.errors
    assert error.loc == ("body", "address")
    assert reason in error.msg


def test_local_http_passes_only_with_the_test_flag() -> None:
    url = "http://127.0.0.1:8080/workflows/1?sig=x"
    assert teams_webhook.check_url(url, hosts=HOSTS, allow_insecure=True) == url
    with pytest.raises(ValidationFailed):
        teams_webhook.check_url("http://10.0.0.5/w", hosts=HOSTS, allow_insecure=True)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (CLASSIC, "https://prod-42.westeurope.logic.azure.com/…"),
        (POWER_PLATFORM, "https://default0123abcd.0a.environment.api.powerplatform.com/…"),
        ("not a url", "Teams webhook …"),
    ],
)
def test_the_mask_keeps_scheme_and_host_only(url: str, shown: str) -> None:
    assert teams_webhook.mask(url) == shown
    assert SIG not in teams_webhook.mask(url)
