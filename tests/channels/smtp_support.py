"""A real SMTP server (aiosmtpd) on loopback, on the test's event loop, recording what came."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "mailer", "s3cret"


@dataclass
class Received:
    peer: Any
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: bytes | None


@dataclass
class Recorder:
    """The handler: replies to RCPT as told (address -> reply), records every DATA."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    messages: list[Received] = field(default_factory=list)
    connections: int = 0
    quits: int = 0

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        auth = session.auth_data
        login = auth.login if session.authenticated and isinstance(auth, LoginPassword) else None
        transport = server.transport
        self.messages.append(Received(
            session.peer, str(envelope.mail_from), list(envelope.rcpt_tos),
            bytes(envelope.original_content or b""),
            transport is not None and transport.get_extra_info("ssl_object") is not None,
            login))
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"

    def peers(self) -> set[Any]:
        return {m.peer for m in self.messages}


def authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@asynccontextmanager
async def smtp_server(*, security: str = "none", tls: ssl.SSLContext | None = None,
                      auth: bool = False) -> AsyncIterator[tuple[int, Recorder]]:
    """Listens on 127.0.0.1 (a free port): plain, STARTTLS (required) or implicit TLS."""
    loop = asyncio.get_running_loop()
    recorder = Recorder()
    kwargs: dict[str, Any] = {"hostname": "mail.test", "loop": loop}
    if security == "starttls":
        kwargs.update(tls_context=tls, require_starttls=True)
    if auth:
        # aiosmtpd does not count implicit TLS as TLS: AUTH is required on STARTTLS only
        kwargs.update(authenticator=authenticate, auth_required=security == "starttls",
                      auth_require_tls=security == "starttls")

    def factory() -> SMTP:
        recorder.connections += 1
        return SMTP(recorder, **kwargs)

    server = await loop.create_server(
        factory, "127.0.0.1", 0, ssl=tls if security == "tls" else None)
    try:
        yield server.sockets[0].getsockname()[1], recorder
    finally:
        server.close()
        await server.wait_closed()
