"""Follow-up register: every finding's owner, deadline, status and audit trail, kept across runs.

The closed loop of problem, responsibility, rectification and deadline lists
(问题清单、责任清单、整改清单、时限清单): see ``docs/review.md``.

>>> from detect.review import Register, record_run, status_table   # doctest: +SKIP
"""

from __future__ import annotations

from detect.review.store import (ACTIVE_STATUSES, ConflictError, Register, RegisterBusyError, RunRecord, STATUSES,
                                 TERMINAL_STATUSES, TRANSITIONS, TransitionError, allowed_next, default_db_path,
                                 record_run, status_table, stress_due_date)

__all__ = ["ACTIVE_STATUSES", "ConflictError", "Register", "RegisterBusyError", "RunRecord", "STATUSES",
           "TERMINAL_STATUSES", "TRANSITIONS", "TransitionError", "allowed_next", "default_db_path", "record_run",
           "status_table", "stress_due_date"]
