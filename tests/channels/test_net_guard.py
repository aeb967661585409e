"""The private-destination policy: which addresses are refused, URL syntax, and connections
made through the check (TLS still verifies the host name; connections are reused)."""

from __future__ import annotations

import ipaddress
import ssl

import anyio
import pytest

from server.channels.base import Outcome
from server.channels.http_common import HttpClients, Reply, exchange
from server.channels.net_guard import (
    Destinations,
    InvalidUrl,
    RefusedDestination,
    check_url,
    refusal_reason,
)
from tests.channels.http_support import Answer, http_server

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.1.2.3", "private"),
    ("192.168.0.1", "private"), ("172.16.5.4", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"), ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"), ("fc00::1", "private"),
    ("240.0.0.1", "reserved"), ("100.64.0.1", "not globally routable"),
    ("::ffff:127.0.0.1", "embeds 127.0.0.1, loopback"),
    ("::ffff:10.0.0.1", "embeds 10.0.0.1, private"),
    ("2002:7f00:1::", "embeds 127.0.0.1, loopback"),
    ("64:ff9b::a9fe:a9fe", "embeds 169.254.169.254, link-local"),
    ("8.8.8.8", None), ("2001:4860:4860::8888", None), ("::ffff:8.8.8.8", None),
])
def test_non_public_addresses_have_a_reason(address: str, reason: str | None) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(("url", "words"), [
    ("ftp://example.com/", "is not http or https"), ("http:///path", "has no host"),
    ("https://u:p@example.com/", "has a user name or password"), ("", "is empty"),
    ("mailto:a@example.com", "is not http or https"), ("http://[::1/", "is not a valid URL"),
])
def test_check_url_accepts_only_absolute_http_urls_without_userinfo(url: str,
                                                                     words: str) -> None:
    with pytest.raises(InvalidUrl, match=words.replace("(", r"\(")):
        check_url(url)
    assert check_url("https://example.com:8443/x?y=1").host == "example.com"


async def test_a_name_resolving_to_loopback_is_refused_unless_trusted_or_allowed() -> None:
    with pytest.raises(RefusedDestination, match=r"refused 'localhost': it resolves to "):
        await Destinations(allow_private=False).resolve("localhost", 80)
    trusted = await Destinations(allow_private=False).resolve("localhost", 80, trusted=True)
    allowed = await Destinations(allow_private=True).resolve("127.0.0.1", 80)
    assert ipaddress.ip_address("127.0.0.1") in trusted
    assert allowed == [ipaddress.ip_address("127.0.0.1")]


async def test_tls_through_the_check_verifies_the_host_name_not_the_address(
    server_tls: ssl.SSLContext, client_tls: ssl.SSLContext,
) -> None:
    http = HttpClients(allow_private=True, verify=client_tls)
    client = http.client(trusted=False)
    async with http_server(lambda seen: Answer(200, b"hello"), tls=server_tls) as server:
        with anyio.fail_after(5):
            by_name = [await exchange(client, client.build_request(
                "GET", server.url(f"/{n}", host="localhost")), 3) for n in range(3)]
            by_ip = await exchange(client, client.build_request("GET", server.url()), 3)
    await http.aclose()
    assert [r.status for r in by_name if isinstance(r, Reply)] == [200, 200, 200]
    assert server.connections == 1  # reused by the three; the IP's handshake never completed
    assert isinstance(by_ip, Outcome) and by_ip.kind == "transient"
    assert "certificate" in by_ip.detail.lower()
    assert [seen.headers["host"] for seen in server.requests] == [
        f"localhost:{server.port}"] * 3


async def test_a_refusal_from_inside_the_client_is_a_permanent_outcome() -> None:
    http = HttpClients(allow_private=False)
    async with http_server(lambda seen: Answer(200)) as server:
        client = http.client(trusted=False)
        outcome = await exchange(client, client.build_request("GET", server.url()), 3)
        trusted = await exchange(http.client(trusted=True),
                                 client.build_request("GET", server.url()), 3)
    await http.aclose()
    assert isinstance(outcome, Outcome) and outcome.kind == "permanent"
    assert isinstance(trusted, Reply) and trusted.status == 200
    assert len(server.requests) == 1


async def test_a_name_that_does_not_resolve_is_transient() -> None:
    http = HttpClients(allow_private=False)
    client = http.client(trusted=False)
    host = "a" * 64 + ".example"  # a label too long for DNS: fails without a query
    request = client.build_request("GET", f"http://{host}/")
    outcome = await exchange(client, request, 3)
    await http.aclose()
    assert isinstance(outcome, Outcome) and outcome.kind == "transient"
    assert outcome.detail.startswith(f"ConnectError: cannot resolve {host}")


@pytest.mark.parametrize("host", ["a" * 64 + ".example", "bad\x00host"])
async def test_a_host_name_that_cannot_be_encoded_is_an_os_error(host: str) -> None:
    with pytest.raises(OSError):
        await Destinations(allow_private=False).resolve(host, 80)
