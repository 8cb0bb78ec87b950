"""The ingest pipeline of a platform: a bounded queue and one writer thread.

Submissions wait in the queue until the writer takes them: at the latest `max_delay_ms`
after the oldest arrived, or as soon as `batch_rows` rows are waiting. A batch holds whole
submissions (one CreateObservations request is never split over two transactions; a
larger one is a batch of its own). The writer writes a batch in one transaction and only
then resolves the submitters' futures: an HTTP answer or an MQTT acknowledgement always
follows the commit. The futures of a batch awaited on one event loop are resolved with one
wake-up of that loop (not one per submission), and the writer is woken only when a batch
becomes due or its first submission arrives.

Backpressure: at most `queue_rows` rows wait or are being written. `submit(wait=False)`
(HTTP) raises `IngestBusy` (503 with Retry-After) when a submission does not fit;
`submit(wait=True)` (MQTT) waits for room, so the broker holds the messages meanwhile.
A submission larger than the whole queue is admitted when the queue is empty.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from stadtkern.core.refs import TenantRef
from stadtkern.db import Database
from stadtkern.errors import Unavailable
from stadtkern.sensorthings.ingest.batch import Outcome, Publish, Submission, write_batch
from stadtkern.sensorthings.ingest.checks import StreamRef
from stadtkern.sensorthings.ingest.rows import Row

log = logging.getLogger(__name__)
ROOM_POLL_SECONDS = 0.002  # how often a waiting MQTT submission looks for room
# Told the ids of the tenants a batch wrote, after its commit, in the writer thread.
CommitListener = Callable[[frozenset[int]], None]
# Where a submitter waits for its outcomes: a future of its event loop, or of its thread.
Waiter = asyncio.Future[list[Outcome]] | Future[list[Outcome]]
Queued = tuple[Submission, Waiter, float]
# A future of an event loop with its outcomes, or the failure of its batch.
Settlement = tuple[asyncio.Future[list[Outcome]], list[Outcome], Exception | None]


class IngestBusy(Unavailable):
    """The ingest queue is full: try again shortly (HTTP 503 with Retry-After)."""

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class IngestStopped(Unavailable):
    """The platform is shutting down and takes no more Observations."""


class IngestPipeline:
    """Buffers submissions briefly and writes them in batches, one transaction each."""

    def __init__(
        self,
        database: Database,
        publish: Publish | None = None,
        *,
        max_delay_ms: float = 5.0,
        batch_rows: int = 5000,
        queue_rows: int = 100_000,
    ) -> None:
        self.database = database
        self.publish = publish
        self.max_delay = max_delay_ms / 1000
        self.batch_rows = batch_rows
        self.queue_rows = queue_rows
        self._condition = threading.Condition()
        self._queue: deque[Queued] = deque()
        self._queued_rows = 0
        self._pending_rows = 0  # queued or being written
        self._closed = False
        self._thread: threading.Thread | None = None
        self._listeners: list[CommitListener] = []

    @property
    def pending_rows(self) -> int:
        """Rows waiting or being written."""
        return self._pending_rows

    async def submit(
        self,
        tenant: TenantRef,
        rows: list[Row | None],
        *,
        base_url: str,
        wait: bool = False,
        streams: frozenset[StreamRef] = frozenset(),
    ) -> list[Outcome]:
        """Ingest rows; the id or the error of each, once committed (None rows: errors).
        `streams`: if one of these does not exist, every row is refused (StreamMissing)."""
        submission = Submission(tenant, rows, base_url, streams=streams)
        future: asyncio.Future[list[Outcome]] = asyncio.get_running_loop().create_future()
        while not self._offer(submission, future):
            if not wait:
                raise self._busy()
            await asyncio.sleep(ROOM_POLL_SECONDS)
        return await future

    def submit_blocking(
        self, tenant: TenantRef, rows: list[Row | None], *, base_url: str, wait: bool = False
    ) -> list[Outcome]:
        """`submit` for threads: blocks until the rows are committed."""
        submission = Submission(tenant, rows, base_url)
        future: Future[list[Outcome]] = Future()
        with self._condition:
            while not self._offer(submission, future):
                if not wait:
                    raise self._busy()
                self._condition.wait()
        return future.result()

    def on_commit(self, listener: CommitListener) -> None:
        """Tell `listener` which tenants each committed batch wrote (the console's live
        feed). It runs in the writer thread, once per batch, and must return at once."""
        self._listeners.append(listener)

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the writer; later submissions are refused."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _busy(self) -> IngestBusy:
        return IngestBusy(
            f"the ingest queue is full ({self._pending_rows} of {self.queue_rows} rows "
            "waiting); retry shortly",
            retry_after=1,
        )

    def _offer(self, submission: Submission, waiter: Waiter) -> bool:
        """Queue the submission if it fits; False when it does not."""
        count = len(submission.rows)
        with self._condition:
            if self._closed:
                raise IngestStopped("the platform is shutting down; retry later")
            if self._pending_rows and self._pending_rows + count > self.queue_rows:
                return False
            self._queue.append((submission, waiter, time.monotonic()))
            self._queued_rows += count
            self._pending_rows += count
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sensorthings-ingest", daemon=True
                )
                self._thread.start()
            # The writer waits for a first submission, then until the batch is due or full:
            # nothing in between concerns it (waking it per submission costs the GIL).
            if len(self._queue) == 1 or self._queued_rows >= self.batch_rows:
                self._condition.notify_all()
            return True

    def _run(self) -> None:
        while True:
            taken = self._take()
            if taken is None:
                return
            self._write(taken)

    def _take(self) -> list[Queued] | None:
        """The next batch, once it is due; None when closed and drained."""
        with self._condition:
            while not self._queue:
                if self._closed:
                    return None
                self._condition.wait()
            due = self._queue[0][2] + self.max_delay
            while self._queued_rows < self.batch_rows and not self._closed:
                remaining = due - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            batch = [self._queue.popleft()]
            rows = len(batch[0][0].rows)
            while self._queue and rows + len(self._queue[0][0].rows) <= self.batch_rows:
                batch.append(self._queue.popleft())
                rows += len(batch[-1][0].rows)
            self._queued_rows -= rows
            return batch

    def _write(self, batch: Sequence[Queued]) -> None:
        submissions = [submission for submission, _future, _at in batch]
        try:
            write_batch(self.database, submissions, self.publish)
        except Exception as error:
            log.exception("an ingest batch of %d submissions failed", len(batch))
            failure: Exception | None = Unavailable(
                f"the Observations could not be stored: {type(error).__name__}"
            )
        else:
            failure = None
            self._tell(frozenset(submission.tenant.id for submission in submissions))
        finally:
            with self._condition:
                self._pending_rows -= sum(len(s.rows) for s in submissions)
                self._condition.notify_all()
        _settle_all(batch, failure)

    def _tell(self, tenants: frozenset[int]) -> None:
        for listener in self._listeners:
            try:
                listener(tenants)
            except Exception:
                log.exception("a commit listener of the ingest failed; the batch is stored")


def _settle_all(batch: Sequence[Queued], failure: Exception | None) -> None:
    """Resolve the waiters of a written batch: a thread's at once, and those of each event
    loop together, in one callback of that loop."""
    by_loop: defaultdict[asyncio.AbstractEventLoop, list[Settlement]] = defaultdict(list)
    for submission, waiter, _at in batch:
        if isinstance(waiter, asyncio.Future):
            by_loop[waiter.get_loop()].append((waiter, submission.outcomes, failure))
        elif failure is not None:
            waiter.set_exception(failure)
        else:
            waiter.set_result(submission.outcomes)
    for loop, settlements in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, settlements)
        except RuntimeError:  # the loop is closed: nobody waits for these any more
            log.debug("an event loop closed before %d ingest answers", len(settlements))


def _settle(settlements: Sequence[Settlement]) -> None:
    """In the submitters' event loop: resolve their futures (a cancelled one is skipped)."""
    for future, outcomes, failure in settlements:
        if future.done():
            continue
        if failure is not None:
            future.set_exception(failure)
        else:
            future.set_result(outcomes)
