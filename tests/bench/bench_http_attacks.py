"""Agent B's latency over HTTP while agent A (or an anonymous client) attacks the server.

Run by hand: `.venv/bin/python tests/bench/bench_http_attacks.py [--seconds 10] [--rounds 3]`.
The server is a real `customerio-mcp serve --transport http` process on loopback, started
with the open-file limit most systems give a process (`--server-nofile 1024`, soft and
hard; 0 keeps this shell's). Agent B calls `get_person` without pause over one keep-alive
connection (`WireClient` of bench_http.py, protocol 2026-07-28) from start to end; the
figures of a phase are B's calls made inside it. Each round has a phase with A idle (the
baseline) and one per attack of ATTACKS, each attack run by a separate process (this one
stays B's client). p99 is noisy on a shared machine, so medians over the rounds are
compared. Attacks:

- idle-sockets: 2,000 sockets, no token, that send nothing; a socket the server closes is
  opened again after RECONNECT_PAUSE_S (an attacker holding connections, not a
  connection-rate flood).
- session-flood: agent A sends legacy (2025-11-25) `initialize` requests, each opening a
  streamable-HTTP session, back to back on FLOOD_CONNECTIONS keep-alive connections.
- hostile-templates: agent A previews templates that run into the 250 ms render budget
  (HOSTILE_TEMPLATES: the quadratic `uniq`, a `replace` over a large string), back to back
  on HOSTILE_CONNECTIONS connections.

Targets: B's median p99 during each attack <= 3x its median p99 with A idle; no failed call
of B; at the end of every phase, at least 19 of 20 new connections get /healthz answered;
the server's RSS grows by less than 50 MB over the run. Also printed: what each attack
achieved, CPU use of the server, B's client and the attacker, the server's open files.

To add an attack, write `async def attack(target: Target, tally: Tally) -> None` that runs
until cancelled (call `tally.ready.set()` once it is under way, count what happens in
`tally.counts`) and add it to ATTACKS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.abc
import httpx2
from bench_http import META, WireClient, _free_port
from common import REPO, Report, median, percentile

CLI = [sys.executable, "-m", "server.cli"]
IDLE_SOCKETS = 2_000
RECONNECT_PAUSE_S = 0.5
FLOOD_CONNECTIONS = 4
LEGACY = "2025-11-25"
TARGET_RATIO = 3.0
HEALTHZ_TRIES = 20
RSS_GROWTH_MB = 50  # the session flood once took 10,000 sessions: +410 MB
IDLE = "A idle"


@dataclass
class Target:
    """The server under attack and agent A's token."""

    url: str
    token: str

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    ready: anyio.Event = field(default_factory=anyio.Event)


Attack = Callable[[Target, Tally], Awaitable[None]]


async def idle_sockets(target: Target, tally: Tally) -> None:
    """IDLE_SOCKETS connections that never send a byte, reopened when closed."""
    raise_own_fd_limit(IDLE_SOCKETS + 200)
    first_round = anyio.Semaphore(0)

    async def hold() -> None:
        while True:
            try:
                stream = await anyio.connect_tcp("127.0.0.1", target.port)
            except OSError:
                tally.counts["connect failed"] += 1
            else:
                tally.counts["connected"] += 1
                first_round.release()
                async with stream:
                    await _until_closed(stream)
                tally.counts["closed by the server"] += 1
            await anyio.sleep(RECONNECT_PAUSE_S)

    async with anyio.create_task_group() as group:
        for _ in range(IDLE_SOCKETS):
            group.start_soon(hold)
        for _ in range(IDLE_SOCKETS):
            await first_round.acquire()
        tally.ready.set()


async def session_flood(target: Target, tally: Tally) -> None:
    """Agent A opens legacy sessions as fast as FLOOD_CONNECTIONS connections allow."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": LEGACY, "capabilities": {},
        "clientInfo": {"name": "flood", "version": "1"}}}).encode()
    head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n"
            f"Authorization: Bearer {target.token}\r\nContent-Type: application/json\r\n"
            f"Accept: application/json, text/event-stream\r\nContent-Length: {len(body)}"
            "\r\n\r\n").encode()

    async def flood() -> None:
        async with await anyio.connect_tcp("127.0.0.1", target.port) as stream:
            buffer = b""
            while True:
                await stream.send(head + body)
                status, buffer = await _read_response(stream, buffer)
                tally.counts[f"HTTP {status}"] += 1

    async with anyio.create_task_group() as group:
        for _ in range(FLOOD_CONNECTIONS):
            group.start_soon(flood)
        tally.ready.set()


# Templates that ran for seconds (52 s for uniq) on the event loop before every filter
# was bounded and renders moved off the loop.
HOSTILE_TEMPLATES = {
    "uniq": "{% assign a = (1..100000) | join: ',' | split: ',' %}{{ a | uniq | size }}",
    "replace": "{% assign s = 'ab' | append: 'cdefghij' %}{% for i in (1..17) %}"
               "{% assign s = s | append: s %}{% endfor %}{{ s | replace: 'a', 'xyz' | size }}",
}
HOSTILE_CONNECTIONS = 2


async def hostile_templates(target: Target, tally: Tally) -> None:
    """Agent A previews templates that run into the render budget, back to back."""
    async with WireClient(target.url, target.token) as client:
        for name, body in HOSTILE_TEMPLATES.items():
            await client.request("tools/call", {"name": "templates_create", "arguments": {
                "template_id": f"hostile-{name}", "channel": "sms", "body": body},
                "_meta": META}, "Mcp-Name: templates_create\r\n")

    async def preview() -> None:
        async with WireClient(target.url, target.token) as client:
            while True:
                for name in HOSTILE_TEMPLATES:
                    result = await client.request("tools/call", {
                        "name": "templates_preview", "arguments": {
                            "template_id": f"hostile-{name}"}, "_meta": META},
                        "Mcp-Name: templates_preview\r\n")
                    text = json.dumps(result)
                    tally.counts["limit_exceeded" if "limit_exceeded" in text
                                 else "rendered"] += 1

    async with anyio.create_task_group() as group:
        for _ in range(HOSTILE_CONNECTIONS):
            group.start_soon(preview)
        tally.ready.set()


ATTACKS: list[tuple[str, str, Attack]] = [
    ("idle-sockets", f"{IDLE_SOCKETS:,} idle sockets, no token", idle_sockets),
    ("session-flood", "agent A opens legacy sessions back to back", session_flood),
    ("hostile-templates", "agent A previews templates that hit the render budget",
     hostile_templates),
]


async def _until_closed(stream: anyio.abc.SocketStream) -> None:
    try:
        while await stream.receive():
            pass
    except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
        return


async def _read_response(stream: anyio.abc.SocketStream, buffer: bytes) -> tuple[str, bytes]:
    """One HTTP/1.1 response with a Content-Length: its status and what follows it."""
    while b"\r\n\r\n" not in buffer:
        buffer += await stream.receive()
    header, rest = buffer.split(b"\r\n\r\n", 1)
    length = int(header.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(rest) < length:
        rest += await stream.receive()
    return header[9:12].decode(), rest[length:]


def raise_own_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


async def run_attack(name: str, url: str, token: str) -> None:
    """The attack process: run the attack until stdin closes, then print its tally."""
    attack = next(fn for attack_id, _, fn in ATTACKS if attack_id == name)
    tally = Tally()
    async with anyio.create_task_group() as group:
        group.start_soon(attack, Target(url, token), tally)
        await tally.ready.wait()
        print("ready", flush=True)
        await anyio.to_thread.run_sync(sys.stdin.read)
        group.cancel_scope.cancel()
    print(json.dumps(tally.counts), flush=True)


@dataclass
class Server:
    url: str
    pid: int
    tokens: dict[str, str]

    def rss_mb(self) -> float:
        with open(f"/proc/{self.pid}/status") as status:
            return next(int(line.split()[1]) for line in status
                        if line.startswith("VmRSS:")) / 1024

    def sample(self) -> str:
        files = len(list(Path(f"/proc/{self.pid}/fd").iterdir()))
        return f"server RSS {self.rss_mb():,.0f} MB, {files:,} open files"


def cpu_seconds(pid: int | str) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Calls:
    """Agent B's get_person calls, timestamped, made without pause until stopped."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (end time, latency)
        self.errors = 0

    async def run(self, server: Server) -> None:
        """Call until cancelled; a failed call counts as an error and B reconnects."""
        while True:
            try:
                async with WireClient(server.url, server.tokens["b"]) as client:
                    await self._call_forever(client)
            except (OSError, RuntimeError, anyio.EndOfStream, anyio.BrokenResourceError):
                self.errors += 1
                await anyio.sleep(0.1)

    async def _call_forever(self, client: WireClient) -> None:
        arguments = {"name": "get_person", "arguments": {"user_id": "b-1"}, "_meta": META}
        while True:
            start = time.perf_counter()
            result = await client.request("tools/call", arguments, "Mcp-Name: get_person\r\n")
            end = time.perf_counter()
            self.errors += bool(result.get("isError"))
            self.samples.append((end, end - start))

    def between(self, start: float, end: float) -> list[float]:
        return [latency for at, latency in self.samples if start <= at < end]


async def fresh_healthz(url: str) -> int:
    """How many of HEALTHZ_TRIES new connections got a 200 from /healthz."""
    answered = 0
    for _ in range(HEALTHZ_TRIES):
        try:
            async with httpx2.AsyncClient(timeout=2) as http:
                answered += (await http.get(f"{url}/healthz")).status_code == 200
        except httpx2.TransportError:
            pass
    return answered


class AttackProcess:
    """One attack run by its own process (see run_attack) while B is measured."""

    def __init__(self, attack: str, server: Server) -> None:
        self.attack = attack
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--attack", attack, server.url, server.tokens["a"]],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO)

    async def started(self) -> None:
        assert self.process.stdout is not None
        with anyio.fail_after(120):
            line = await anyio.to_thread.run_sync(self.process.stdout.readline)
        if line.strip() != "ready":
            raise RuntimeError(f"attack {self.attack} did not start: {line!r}")

    async def stop(self) -> str:
        """Stop it; what it did, as text."""
        out, _ = await anyio.to_thread.run_sync(self.process.communicate, "")
        counts = json.loads(out.strip().splitlines()[-1])
        return "; attack: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items()))


@dataclass
class Phase:
    p99_ms: float
    healthz: int  # of HEALTHZ_TRIES fresh connections answered


async def phase(report: Report, calls: Calls, server: Server, label: str,
                attack: str | None, seconds: float) -> Phase:
    """Measure B for `seconds` (while `attack` runs, if any)."""
    attacker = AttackProcess(attack, server) if attack is not None else None
    pids: dict[str, int | str] = {"server": server.pid, "B's client": "self"}
    if attacker is not None:
        await attacker.started()
        pids["attack"] = attacker.process.pid
    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    start = time.perf_counter()
    await anyio.sleep(seconds)
    end = time.perf_counter()
    usage = ", ".join(f"{name} {(cpu_seconds(pid) - cpu[name]) / (end - start):.0%}"
                      for name, pid in pids.items())
    sample, healthz = server.sample(), await fresh_healthz(server.url)
    tally = await attacker.stop() if attacker is not None else ""
    latencies = calls.between(start, end)
    p50, p99 = median(latencies) * 1e3, percentile(latencies, 0.99) * 1e3
    report.line(f"  {label:<44} B: {len(latencies):>6,} calls  p50 {p50:6.2f} ms  "
                f"p99 {p99:6.2f} ms")
    report.line(f"      CPU: {usage}; {sample}")
    report.line(f"      fresh connections answered /healthz: {healthz}/{HEALTHZ_TRIES}{tally}")
    return Phase(p99, healthz)


def start_server(data_dir: Path, nofile: int, extra: list[str]) -> tuple[subprocess.Popen[bytes],
                                                                           Server]:
    tokens = {name: subprocess.run([*CLI, "agents", "create", name, "--data-dir", str(data_dir)],
                                   capture_output=True, text=True, check=True, cwd=REPO
                                   ).stdout.strip() for name in ("a", "b")}
    port = _free_port()

    def limit_files() -> None:
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    process = subprocess.Popen([*CLI, "--log-level", "ERROR", "serve", "--transport", "http",
                                "--port", str(port), "--data-dir", str(data_dir), *extra],
                               cwd=REPO, preexec_fn=limit_files)
    return process, Server(f"http://127.0.0.1:{port}", process.pid, tokens)


async def wait_ready(server: Server) -> None:
    with anyio.fail_after(30):
        while True:
            try:
                async with httpx2.AsyncClient(timeout=1) as http:
                    await http.get(f"{server.url}/healthz")
                return
            except httpx2.TransportError:
                await anyio.sleep(0.05)


async def seed(server: Server) -> None:
    async with WireClient(server.url, server.tokens["b"]) as client:
        result = await client.request("tools/call", {"name": "identify", "arguments": {
            "user_id": "b-1", "attributes": {"plan": "pro", "email": "b1@example.com"}},
            "_meta": META}, "Mcp-Name: identify\r\n")
        assert not result.get("isError"), result


def verdict(report: Report, phases: dict[str, list[Phase]], errors: int,
            rss_growth: float) -> None:
    """B's median p99 under each attack against its median p99 with A idle, and the rest."""
    idle = median([p.p99_ms for p in phases[IDLE]])
    report.line(f"B's p99 with A idle: median {idle:.2f} ms; rounds "
                f"{', '.join(f'{p.p99_ms:.1f}' for p in phases[IDLE])} ms")
    report.target("B made no failed calls", errors == 0, f"{errors} errors")
    for label, runs in phases.items():
        if label != IDLE:
            p99 = median([p.p99_ms for p in runs])
            report.target(f"B's p99 during {label}", p99 <= TARGET_RATIO * idle,
                          f"median {p99:.2f} ms = {p99 / idle:.2f}x idle (target <= "
                          f"{TARGET_RATIO:g}x); rounds "
                          f"{', '.join(f'{p.p99_ms:.1f}' for p in runs)} ms")
        worst = min(p.healthz for p in runs)
        report.target(f"new connections answered during {label}",
                      worst >= HEALTHZ_TRIES - 1,
                      f"at worst {worst}/{HEALTHZ_TRIES} (target >= {HEALTHZ_TRIES - 1})")
    report.target("server RSS stays bounded", rss_growth < RSS_GROWTH_MB,
                  f"+{rss_growth:.0f} MB over the run (target < {RSS_GROWTH_MB} MB)")


async def main() -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--seconds", type=float, default=10.0, help="per phase (default 10)")
    cli.add_argument("--rounds", type=int, default=3,
                     help="rounds of (A idle, each attack); medians are compared (default 3)")
    cli.add_argument("--server-nofile", type=int, default=1024,
                     help="the server's open-file limit, soft and hard (default 1024; 0 keeps "
                     "this shell's)")
    cli.add_argument("--server-arg", action="append", default=[],
                     help="extra argument for `serve` (repeatable)")
    cli.add_argument("--attack", nargs=3, help="(internal) run one attack: NAME URL TOKEN")
    args = cli.parse_args()
    if args.attack:
        await run_attack(*args.attack)
        return 0
    report = Report("bench_http_attacks")
    with tempfile.TemporaryDirectory() as tmp:
        process, server = start_server(Path(tmp), args.server_nofile, args.server_arg)
        try:
            await wait_ready(server)
            await seed(server)
            report.line(f"server open-file limit {args.server_nofile or 'inherited'}; "
                        f"{args.seconds:g} s per phase; B calls get_person on one keep-alive "
                        "connection")
            calls = Calls()
            phases: dict[str, list[Phase]] = {}
            async with anyio.create_task_group() as group:
                group.start_soon(calls.run, server)
                await anyio.sleep(1.0)  # warm-up
                rss_start = server.rss_mb()
                for number in range(1, args.rounds + 1):
                    report.line(f"round {number}:")
                    for label, attack in [(IDLE, None), *((lbl, a) for a, lbl, _ in ATTACKS)]:
                        phases.setdefault(label, []).append(
                            await phase(report, calls, server, label, attack, args.seconds))
                group.cancel_scope.cancel()
            verdict(report, phases, calls.errors, server.rss_mb() - rss_start)
        finally:
            process.terminate()
            process.wait(30)
    return report.finish()


if __name__ == "__main__":
    sys.exit(anyio.run(main))
