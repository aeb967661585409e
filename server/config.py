"""The operator's config file (TOML): channel providers for every agent, and where
unsubscribe links point.

    public_url = "https://cio.example.com"        # the HTTP server, as people reach it

    [channels.email.smtp]
    host = "smtp.postmarkapp.com"
    port = 587
    security = "starttls"
    username = "${POSTMARK_TOKEN}"
    password = "${POSTMARK_TOKEN}"
    from = "Shop <hello@shop.example>"

Strings may name environment variables as `${NAME}` (secrets stay out of the file). Given
with `--config FILE` or CUSTOMERIO_MCP_CONFIG; providers here are trusted as written (the
private-destination check applies to what agents set).
"""

from __future__ import annotations

import argparse
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.core.delivery.channels import CHANNELS
from tools.core.delivery.providers import check_settings
from tools.core.errors import InvalidInput

CONFIG_VARIABLE = "CUSTOMERIO_MCP_CONFIG"
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_KEYS = ("public_url", "channels")


class ConfigError(Exception):
    """The config file cannot be used; the message says where and what to write."""


@dataclass(frozen=True)
class OperatorConfig:
    channels: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    public_url: str | None = None


def config_path(given: Path | None) -> Path | None:
    """--config, else $CUSTOMERIO_MCP_CONFIG, else none."""
    if given is not None:
        return given
    named = os.environ.get(CONFIG_VARIABLE)
    return Path(named) if named else None


def load_config(path: Path | None) -> OperatorConfig:
    """The config at `path` (none: nothing configured)."""
    if path is None:
        return OperatorConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {unknown}; it takes {list(_KEYS)}")
    public_url = raw.get("public_url")
    if public_url is not None and (not isinstance(public_url, str)
                                   or not public_url.startswith(("https://", "http://"))):
        raise ConfigError(f"config file {path}: public_url must be an http(s) URL")
    return OperatorConfig(_channels(path, raw.get("channels", {})),
                          public_url.rstrip("/") if public_url else None)


def _channels(path: Path, table: Any) -> dict[str, dict[str, dict[str, Any]]]:
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [channels] must be a table")
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for channel, providers in table.items():
        if channel not in CHANNELS or not isinstance(providers, dict):
            raise ConfigError(f"config file {path}: [channels.{channel}] is no channel; use "
                              f"one of {', '.join(CHANNELS)}, each with [channels.<channel>."
                              "<provider>] tables")
        for provider, settings in providers.items():
            where = f"[channels.{channel}.{provider}]"
            try:
                resolved = {name: _resolve(value, f"{where} {name}")
                            for name, value in (settings or {}).items()}
                found.setdefault(channel, {})[provider] = check_settings(channel, provider,
                                                                         resolved)
            except InvalidInput as exc:
                raise ConfigError(f"config file {path} {where}: {exc.message}") from None
            except AttributeError:
                raise ConfigError(f"config file {path}: {where} must be a table") from None
        if len(found.get(channel, {})) > 1 and channel != "push":
            raise ConfigError(f"config file {path}: [channels.{channel}] has several providers; "
                              "give one")
    return found


def _resolve(value: Any, where: str) -> Any:
    """`${NAME}` references replaced by the environment's values."""
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{where} names ${{{name}}}, which is not set in the environment")
        return os.environ[name]

    return _REFERENCE.sub(lookup, value)


PRIVATE_VARIABLE = "CUSTOMERIO_MCP_ALLOW_PRIVATE_DESTINATIONS"


def add_delivery_options(parser: argparse.ArgumentParser) -> None:
    """--config, --allow-private-destinations and --public-url (serve and worker)."""
    group = parser.add_argument_group("delivery")
    group.add_argument("--config", type=Path, default=None, metavar="FILE",
                       help=f"TOML file of channel providers (env {CONFIG_VARIABLE}); with "
                       "none, email, SMS and push are captured, not sent")
    group.add_argument("--allow-private-destinations", action="store_true",
                       default=os.environ.get(PRIVATE_VARIABLE) == "1",
                       help="let agents send to private, loopback and link-local addresses "
                       f"(webhooks, providers they configure); env {PRIVATE_VARIABLE}=1")
    group.add_argument("--public-url", default=None, metavar="URL",
                       help="where people reach the HTTP server, for unsubscribe links "
                       "(default: public_url of the config file, else http://127.0.0.1:8000)")


def delivery_options(args: argparse.Namespace) -> dict[str, Any]:
    """Runtime keyword arguments from the options (ConfigError when the file is unusable)."""
    public_url = args.public_url
    if public_url is not None and not public_url.startswith(("https://", "http://")):
        raise ConfigError("--public-url must be an http(s) URL")
    return {"config": load_config(config_path(args.config)),
            "allow_private": args.allow_private_destinations,
            "public_url": public_url.rstrip("/") if public_url else None}
