"""Random sequences of reviewers' actions against a plain model of the workflow (hypothesis).

The model is written from the issue's rules, independently of detect.review: a move succeeds iff it
is in the allowed table and what it needs is given; nothing else changes the status.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detect.exceptions import InputError
from detect.review import Register

from review_helpers import TODAY

STATUSES = ["open", "assigned", "under_review", "confirmed", "dismissed", "rectification_due", "rectified", "closed"]
NEEDS = {
    ("open", "assigned"): "owner", ("assigned", "under_review"): "", ("under_review", "confirmed"): "",
    ("under_review", "dismissed"): "reason", ("confirmed", "rectification_due"): "due",
    ("rectification_due", "rectified"): "evidence", ("rectified", "closed"): "",
    ("dismissed", "under_review"): "note", ("confirmed", "under_review"): "note",
    ("rectified", "rectification_due"): "note", ("closed", "under_review"): "note",
}

action = st.tuples(
    st.sampled_from(STATUSES),
    st.fixed_dictionaries({"owner": st.sampled_from(["", "Li"]), "due": st.sampled_from([None, "2026-09-30"]),
                           "reason": st.sampled_from(["", "revised"]), "evidence": st.sampled_from(["", "doc 7"]),
                           "note": st.sampled_from(["", "why"])}),
)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, min_size=1, max_size=20))
def test_random_actions_follow_the_model(one_finding_template, actions):
    src, fid = one_finding_template
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.sqlite"
        shutil.copyfile(src, path)
        with Register(path, today=TODAY) as reg:
            status, owner, due = "open", "", None
            n_audit = len(reg.history(fid))
            for target, kw in actions:
                need = NEEDS.get((status, target))
                ok = need is not None and (
                    need == "" or (need == "owner" and (kw["owner"] or owner))
                    or (need == "due" and (kw["due"] or due)) or (need == "reason" and kw["reason"])
                    or (need == "evidence" and kw["evidence"]) or (need == "note" and kw["note"]))
                try:
                    reg.set_status(fid, target, by="tester", **kw)
                    applied = True
                except InputError:
                    applied = False
                assert applied == bool(ok), (status, target, kw)
                if applied:
                    status = target
                    owner = kw["owner"] or owner
                    due = kw["due"] or due
                    n_audit += 1
                got = reg.get(fid)
                assert got["status"] == status
                assert len(reg.history(fid)) == n_audit
            assert reg.verify() == []
