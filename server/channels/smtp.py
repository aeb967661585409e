"""Email over SMTP, on pooled connections; reply codes become Outcomes.

Settings: host, port (default 25 / 587 / 465 by security), username, password, security
(none | starttls | tls, default starttls), from, timeout (s, default 30), tls_verify
(default true), ca_file (a PEM bundle to verify against; honoured in trusted settings only),
helo_name (default: the From domain).
"""

from __future__ import annotations

import aiosmtplib

from server.channels.base import Outcome, Outgoing
from server.channels.http_common import one_line, setting, timeout_setting
from server.channels.mime import (
    InvalidMessage,
    build_email,
    envelope_sender,
    message_id,
    recipient,
)
from server.channels.net_guard import Destinations, RefusedDestination
from server.channels.smtp_pool import Lease, SmtpPools, SmtpServer
from tools.core.delivery.retry import classify_smtp

_PORTS = {"none": 25, "starttls": 587, "tls": 465}
_STAGES: tuple[tuple[type[aiosmtplib.SMTPResponseException], str], ...] = (
    (aiosmtplib.SMTPSenderRefused, "MAIL FROM refused"),
    (aiosmtplib.SMTPRecipientRefused, "RCPT TO refused"),
    (aiosmtplib.SMTPDataError, "DATA refused"),
    (aiosmtplib.SMTPAuthenticationError, "AUTH refused"),
    (aiosmtplib.SMTPHeloError, "EHLO refused"),
    (aiosmtplib.SMTPConnectResponseError, "greeting refused"),
)


class SmtpSender:
    """Sends each email as one SMTP transaction on a pooled connection."""

    def __init__(self, destinations: Destinations, *, pools: SmtpPools | None = None) -> None:
        self._destinations = destinations
        self._pools = pools or SmtpPools(destinations)

    async def send(self, outgoing: Outgoing) -> Outcome:
        server = smtp_server(outgoing, self._destinations.allow_private)
        if isinstance(server, Outcome):
            return server
        try:
            data = outgoing.prebuilt or build_email(outgoing)
            sender, rcpt, mid = envelope_sender(outgoing), recipient(outgoing), message_id(outgoing)
        except InvalidMessage as exc:
            return Outcome("permanent", one_line(str(exc)))
        try:
            return await self._deliver(server, sender, rcpt, data, mid)
        except RefusedDestination as exc:
            return Outcome("permanent", one_line(str(exc)))
        except aiosmtplib.SMTPResponseException as exc:
            return _refusal(exc)
        except UnicodeEncodeError:
            return Outcome("permanent", "an address is not ASCII (SMTPUTF8 is not supported)")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            text = str(exc) or type(exc).__name__
            # STARTTLS or AUTH missing on the server is its configuration, not a moment's
            unsupported = isinstance(exc, aiosmtplib.SMTPNotSupported) or (
                isinstance(exc, aiosmtplib.SMTPException) and "not supported" in text)
            return Outcome("permanent" if unsupported else "transient",
                           one_line(f"{server.host}:{server.port}: {text}"))

    async def _deliver(self, server: SmtpServer, sender: str, rcpt: str, data: bytes,
                       mid: str) -> Outcome:
        for attempt in (1, 2):
            lease = await self._pools.lease(server)
            healthy = False
            try:
                try:
                    await lease.smtp.mail(sender)
                except aiosmtplib.SMTPServerDisconnected:
                    if lease.reused and attempt == 1:
                        continue  # the server closed an idle connection: open a new one
                    raise
                await lease.smtp.rcpt(rcpt)
                response = await lease.smtp.data(data)
                healthy = True
                return Outcome("sent", one_line(str(response)), provider_message_id=mid)
            except aiosmtplib.SMTPResponseException:
                healthy = await _reset(lease)
                raise
            finally:
                self._pools.release(lease, healthy=healthy)
        raise aiosmtplib.SMTPServerDisconnected("the connection closed twice")

    async def aclose(self) -> None:
        await self._pools.aclose()


def smtp_server(outgoing: Outgoing, allow_private: bool) -> SmtpServer | Outcome:
    """The SMTP server `outgoing.settings` name, or a permanent Outcome saying what is wrong."""
    settings = outgoing.settings
    host = setting(settings, "host")
    if host is None:
        return Outcome("permanent", "smtp settings lack host")
    security = settings.get("security", "starttls")
    if security not in _PORTS:
        return Outcome("permanent", f"smtp security {str(security)[:20]!r} is not one of "
                                    "none, starttls, tls")
    port = settings.get("port", _PORTS[security])
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        return Outcome("permanent", f"smtp port {str(port)[:20]!r} is not a port number")
    try:
        helo = setting(settings, "helo_name") or envelope_sender(outgoing).rpartition("@")[2]
    except InvalidMessage as exc:
        return Outcome("permanent", one_line(str(exc)))
    return SmtpServer(
        host=host, port=port, security=security, username=setting(settings, "username"),
        password=setting(settings, "password"), timeout=timeout_setting(settings, 30.0),
        tls_verify=settings.get("tls_verify", True) is not False,
        ca_file=setting(settings, "ca_file") if outgoing.trusted else None,
        helo_name=helo, checked=not (allow_private or outgoing.trusted))


def _refusal(exc: aiosmtplib.SMTPResponseException) -> Outcome:
    stage = next((label for kind, label in _STAGES if isinstance(exc, kind)), "refused")
    verdict = classify_smtp(exc.code)
    kind = "transient" if verdict == "sent" else verdict
    return Outcome(kind, one_line(f"{stage}: {exc.code} {exc.message}"))


async def _reset(lease: Lease) -> bool:
    """RSET after a refused command, so the connection can carry the next message."""
    if not lease.smtp.is_connected:
        return False
    try:
        await lease.smtp.rset()
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        return False
    return True
