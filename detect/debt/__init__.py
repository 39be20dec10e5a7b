"""Debt-ratio checks: ratios and risk grades, reckless-borrowing surges, identity checks, debt dynamics
and stress tests (see docs/debt.md).

>>> from detect.debt import compute_ratios, stress_table   # doctest: +SKIP
>>> compute_ratios(panel)            # DebtRatios: .table, .grades(), .not_computable()
>>> stress_table(panel).deadlines()  # first year each line is crossed, per region
"""

from detect.debt.dynamics import history, project
from detect.debt.ratios import RATIOS, DebtRatios, compute_ratios, grade
from detect.debt.stress import SCENARIOS, StressResult, stress_table

__all__ = ["RATIOS", "DebtRatios", "compute_ratios", "grade", "project", "history", "SCENARIOS",
           "StressResult", "stress_table"]
