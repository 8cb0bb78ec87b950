"""Database work of background tasks in a worker thread, finished even when the task is
cancelled.

A cancelled asyncio task stops waiting for its worker thread, but the thread goes on with
its transaction. When the platform stops it cancels its tasks and then disposes the database
engine; a thread still inside a transaction would hand its connection back to the disposed
pool, where nobody closes it. `run_to_end` lets the cancellation through only once the
thread is done, so that the platform's stop waits for it (one short transaction).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from anyio import to_thread

T = TypeVar("T")


async def run_to_end(function: Callable[..., T], *args: object) -> T:
    """`function(*args)` in a worker thread; a cancellation waits until it has returned."""
    work = asyncio.ensure_future(to_thread.run_sync(function, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        raise
