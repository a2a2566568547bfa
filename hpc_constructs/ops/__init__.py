"""Operations: a CloudWatch dashboard with alarms for the library's constructs
(:class:`HpcDashboard`), cost-allocation tags (:class:`CostAllocationTags`) and budgets
(:class:`HpcBudget`)."""

from __future__ import annotations

from hpc_constructs.ops.cost import CostAllocationTags, HpcBudget
from hpc_constructs.ops.dashboard import HpcDashboard
from hpc_constructs.ops.plan import AlarmThresholds, BudgetPlan

__all__ = ["AlarmThresholds", "BudgetPlan", "CostAllocationTags", "HpcBudget", "HpcDashboard"]
