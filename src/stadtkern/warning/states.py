"""The states of an alert and of a delivery to one lantern."""

from __future__ import annotations

# --- alerts -------------------------------------------------------------------------------
DRAFT = "draft"  # CAP status Draft: kept, never sent
PENDING = "pending_approval"  # an Actual alert waiting for its second person
REJECTED = "rejected"
ACTIVE = "active"  # sent to its lanterns; sounding or sounded, not ended
CANCELLED = "cancelled"  # withdrawn by a Cancel
ALL_CLEAR = "all_clear"  # ended by the all-clear signal
SUPERSEDED = "superseded"  # replaced by an Update
EXPIRED = "expired"  # its time ran out

ALERT_STATES = (DRAFT, PENDING, REJECTED, ACTIVE, CANCELLED, ALL_CLEAR, SUPERSEDED, EXPIRED)
OPEN_STATES = frozenset({ACTIVE})  # alerts an update, cancel or all-clear may follow

# --- deliveries (per lantern) ---------------------------------------------------------------
TARGETED = "targeted"  # command sent, no answer yet
RECEIVED = "received"
STARTED = "started"
FINISHED = "finished"
FAILED = "failed"  # the lantern could not play it (reason says why)
REFUSED = "rejected"  # the lantern refused the command (reason: bad_signature, replayed, ...)
SILENT = "silent"  # no answer until the command expired

# Answers only move forward: a late "received" never hides a "finished".
PROGRESS = {TARGETED: 0, RECEIVED: 1, STARTED: 2, FINISHED: 3, FAILED: 3, REFUSED: 3, SILENT: 4}
ANSWERED = frozenset({RECEIVED, STARTED, FINISHED})
TERMINAL = frozenset({FINISHED, FAILED, REFUSED, SILENT})
