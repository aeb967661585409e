"""stdin / stdout that the event loop cannot poll (a regular file, a terminal), served
through pipes of our own: a thread copies the file into a pipe (and a pipe out to the
file), so the loop reads and writes pipes as usual and every stdio limit holds (capped
lines, an answer to every malformed line). The threads only copy bytes; they block in
os.read / os.write, never on the event loop."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

CHUNK = 65_536
JOIN_TIMEOUT = 5.0  # seconds to let the last replies reach a slow stdout on the way out


def pollable(fd: int) -> bool:
    """Whether the event loop can poll `fd` (a pipe, FIFO or socket)."""
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _copy(source: int, target: int, close_target: bool) -> None:
    try:
        while chunk := os.read(source, CHUNK):
            view = memoryview(chunk)
            while view:
                view = view[os.write(target, view):]
    except OSError:
        pass  # the other end went away: nothing more to copy
    finally:
        os.close(source)
        if close_target:
            os.close(target)


@contextmanager
def pumped(wire_in: int, wire_out: int) -> Iterator[tuple[int, int]]:
    """(in, out) fds the loop can poll for the given ones: each one that is not pollable
    is replaced by a pipe a copying thread keeps filled (in) or drained (out). The fds
    given stay owned by the caller."""
    threads: list[threading.Thread] = []
    closers: list[int] = []
    read_fd, write_fd = wire_in, wire_out
    if not pollable(wire_in):
        read_fd, fill = os.pipe()
        # the pump reads a duplicate (closing it at EOF) and closes the pipe's write end
        threads.append(_start(os.dup(wire_in), fill, close_target=True, daemon=True))
    if not pollable(wire_out):
        drain, write_fd = os.pipe()
        closers.append(write_fd)
        threads.append(_start(drain, os.dup(wire_out), close_target=True, daemon=False))
    try:
        yield read_fd, write_fd
    finally:
        for fd in closers:  # EOF for the stdout pump: it copies what is left, then ends
            with suppress(OSError):
                os.close(fd)
        for thread in threads:
            if not thread.daemon:
                thread.join(JOIN_TIMEOUT)


def _start(source: int, target: int, *, close_target: bool, daemon: bool) -> threading.Thread:
    thread = threading.Thread(target=_copy, args=(source, target, close_target),
                              name="customerio-mcp stdio pump", daemon=daemon)
    thread.start()
    return thread
