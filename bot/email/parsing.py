"""Large raw mail parsed off the event loop, in a worker process of its own (`parse_mail`).

Reading a mail is pure Python (the standard library's MIME parser, base64 decoding of its attachments,
mail-parser-reply's regexes over every language); in a thread it would hold the GIL all the same. A text
mail takes about half a millisecond and is read in place: handing it to another process costs the loop
more than half of that again (pickling, the pool's queues), measured in benchmarks/README.md (inbound).
A mail of `OFF_LOOP_BYTES` or more — attachments, a long quoted history — can take tens of milliseconds,
which every other webhook (Slack's 3-second ack) would wait out: it is read in a worker process.

The pool is started on the first mail (`spawn`: nothing of the server's state, sockets or threads is copied)
and shut down with the app. A worker that dies (a mail that exhausts its memory), or a pool that cannot
start, costs a request nothing: the mail is read in the server process instead, and so is every mail of
the next minute, before a fresh pool is tried.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.email.message import InboundEmail, parse_email
from bot.errors import ApiError

log = logging.getLogger(__name__)

WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))
OFF_LOOP_BYTES = 256 * 1024
RETRY_POOL_SECONDS = 60.0
_pool: ProcessPoolExecutor | None = None
_failed_at: float | None = None


def _parse(raw: bytes) -> InboundEmail | tuple[int, str, str, str | None]:
    """In the worker: the mail, or the ApiError's fields (an ApiError does not survive pickling)."""
    try:
        return parse_email(raw)
    except ApiError as error:
        return error.status, error.code, error.detail, error.field


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
    return _pool


async def parse_mail(raw: bytes) -> InboundEmail:
    """`parse_email(raw)`: in place for a small mail, in the worker process for a large one; the same answer
    and the same ApiErrors either way."""
    global _pool, _failed_at
    if len(raw) < OFF_LOOP_BYTES:
        return parse_email(raw)
    if _failed_at is not None and time.monotonic() - _failed_at < RETRY_POOL_SECONDS:
        return parse_email(raw)
    try:
        found = await asyncio.get_running_loop().run_in_executor(_executor(), _parse, raw)
    except (BrokenProcessPool, OSError, RuntimeError) as error:  # a dead worker, a pool that cannot start
        if _failed_at is None or time.monotonic() - _failed_at >= RETRY_POOL_SECONDS:
            log.warning("the mail parsing process failed (%s); mail is read in the server for a minute",
                        type(error).__name__)
        _failed_at = time.monotonic()
        broken, _pool = _pool, None
        if broken is not None:
            broken.shutdown(wait=False, cancel_futures=True)
        return parse_email(raw)
    _failed_at = None
    if isinstance(found, tuple):
        status, code, detail, field = found
        raise ApiError(status, code, detail, field)
    return found


async def shutdown() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await asyncio.get_running_loop().run_in_executor(None, pool.shutdown)
