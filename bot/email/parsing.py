"""Raw mail parsed off the event loop, in a worker process of its own (`parse_off_loop`).

Reading a mail (the standard library's MIME parser, then mail-parser-reply's regexes over every language)
costs several times what the rest of its request does, and it is pure Python: in a thread it would hold the
GIL all the same, so it runs in a separate process. The loop then keeps answering webhooks while a mail is
read, and a machine with more cores reads mail on another one (benchmarks/README.md: inbound).

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


async def parse_off_loop(raw: bytes) -> InboundEmail:
    """`parse_email(raw)`, run in the worker process; the same answer and the same ApiErrors."""
    global _pool, _failed_at
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
