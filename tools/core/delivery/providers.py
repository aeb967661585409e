"""Channel providers: the settings each one takes, which are secret, and which provider
serves a channel for an agent (its own choice, else the operator's, else the default).

Settings are plain data here; the senders (server/channels) do the I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.core.errors import InvalidInput

# provider -> (required settings, optional settings)
PROVIDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "smtp": (("host", "from"), ("port", "username", "password", "security", "timeout",
                                "ca_file", "tls_verify", "helo_name")),
    "twilio": (("account_sid", "auth_token"), ("from", "messaging_service_sid", "base_url",
                                                "timeout")),
    "fcm": (("project_id", "client_email", "private_key"), ("private_key_id", "token_uri",
                                                            "base_url", "timeout")),
    "webpush": (("vapid_private_key", "vapid_subject"), ("ttl", "timeout")),
    "webhook": ((), ("signing_secret",)),
    "capture": ((), ("from",)),
    "disabled": ((), ()),
}
CHANNEL_PROVIDERS: dict[str, tuple[str, ...]] = {
    "email": ("smtp", "capture", "disabled"),
    "sms": ("twilio", "capture", "disabled"),
    "push": ("fcm", "webpush", "capture", "disabled"),
    "webhook": ("webhook", "disabled"),
    "in_app": ("disabled",),
}
# with nothing configured: email, SMS and push are captured; webhooks go out; in-app lands
DEFAULTS: dict[str, str] = {"email": "capture", "sms": "capture", "push": "capture",
                            "webhook": "webhook", "in_app": "inbox"}
# the capture provider's From when nothing is configured (.invalid: it can never be sent)
DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "email": {"from": "customerio-mcp capture <noreply@capture.invalid>"}}
SECRETS = frozenset({"password", "auth_token", "private_key", "vapid_private_key",
                     "signing_secret"})
HOST_SETTINGS = ("host", "base_url", "token_uri")  # destinations an agent may set
SECURITY = ("none", "starttls", "tls")
REDACTED = "***"
# Push providers each serve some platforms; both may be configured at once.
PLATFORMS: dict[str, frozenset[str]] = {"fcm": frozenset({"android", "ios"}),
                                        "webpush": frozenset({"web"}),
                                        "capture": frozenset({"android", "ios", "web"})}


@dataclass(frozen=True)
class Provider:
    name: str
    settings: Mapping[str, Any]
    source: str  # agent | operator | default


def check_settings(channel: str, provider: str, settings: Any) -> dict[str, Any]:
    """Validated settings of `provider` for `channel` (names checked, types sane)."""
    if provider not in CHANNEL_PROVIDERS.get(channel, ()):
        allowed = ", ".join(CHANNEL_PROVIDERS.get(channel, ())) or "none"
        raise InvalidInput(f"provider {provider!r} does not serve {channel}; use one of: "
                           f"{allowed}", field="provider")
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping):
        raise InvalidInput("settings must be an object of setting name -> value",
                           field="settings")
    required, optional = PROVIDERS[provider]
    unknown = sorted(set(settings) - set(required) - set(optional))
    if unknown:
        known = ", ".join((*required, *optional)) or "none"
        raise InvalidInput(f"unknown {provider} settings {unknown}; it takes: {known}",
                           field="settings")
    missing = [name for name in required if settings.get(name) in (None, "")]
    if missing:
        raise InvalidInput(f"{provider} needs the settings {missing}", field="settings")
    return {name: _check_value(provider, name, value) for name, value in settings.items()}


def _check_value(provider: str, name: str, value: Any) -> Any:
    field = f"settings.{name}"
    if name == "port":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise InvalidInput(f"{field} must be a port number 1-65535", field=field)
        return value
    if name == "ttl":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2_419_200:
            raise InvalidInput(f"{field} must be seconds from 0 to 2419200 (28 days)",
                               field=field)
        return value
    if name == "timeout":
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or not 0 < value <= 120:
            raise InvalidInput(f"{field} must be seconds, more than 0 and at most 120",
                               field=field)
        return float(value)
    if name == "tls_verify":
        if not isinstance(value, bool):
            raise InvalidInput(f"{field} must be true or false", field=field)
        return value
    multi_line = name in ("private_key", "vapid_private_key")  # PEM keys span lines
    if not isinstance(value, str) or len(value) > 10_000 or "\0" in value \
            or (not multi_line and ("\r" in value or "\n" in value)):
        raise InvalidInput(f"{field} must be a single-line string of at most 10,000 "
                           "characters", field=field)
    if name == "security" and value not in SECURITY:
        raise InvalidInput(f"{field} must be one of {', '.join(SECURITY)}", field=field)
    if name in ("base_url", "token_uri") and not value.startswith(("https://", "http://")):
        raise InvalidInput(f"{field} must be an http(s) URL", field=field)
    return value


def redacted(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings with every secret shown as '***'."""
    return {name: REDACTED if name in SECRETS and value else value
            for name, value in settings.items()}


def providers_for(channel: str, agent: Mapping[str, Mapping[str, Any]],
                  operator: Mapping[str, Mapping[str, Any]]) -> list[Provider]:
    """The providers serving `channel`: the agent's own (channels_configure), else the
    operator's (config file), else the default. Empty when the channel is disabled."""
    for source, configured in (("agent", agent), ("operator", operator)):
        if configured:
            if "disabled" in configured:
                return []
            return [Provider(name, settings, source) for name, settings in configured.items()]
    return [Provider(DEFAULTS[channel], DEFAULT_SETTINGS.get(channel, {}), "default")]
