"""customerio-mcp: transports, CLI and the process-wide runtime."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("customerio-mcp")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"
