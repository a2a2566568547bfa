"""Self-service through AWS Service Catalog: the library's blueprints as products.

``BlueprintPortfolio`` (the portfolio, its launch role, tag options and principals) takes
``BlueprintProduct`` s whose versions (:class:`MpiClusterVersion`, :class:`LustreScratchVersion`)
become ``servicecatalog.ProductStack`` s composing the library's constructs. Launch parameters
get their ``AllowedValues`` / ``MinValue`` / ``MaxValue`` from :mod:`.plan` (pure functions on
the library's limits and instance catalog).
"""

from hpc_constructs.portfolio.construct import BlueprintPortfolio
from hpc_constructs.portfolio.launch_role import LaunchRolePlan, plan_launch_role
from hpc_constructs.portfolio.plan import (
    BlueprintProduct,
    LayoutKey,
    LustreScratchVersion,
    MpiClusterVersion,
    compatible_instance_types,
    layout_key,
    plan_product,
)
from hpc_constructs.portfolio.products import (
    BlueprintProductStack,
    LustreScratchProductStack,
    MpiClusterProductStack,
)

__all__ = [
    "BlueprintPortfolio",
    "BlueprintProduct",
    "BlueprintProductStack",
    "LaunchRolePlan",
    "LayoutKey",
    "LustreScratchProductStack",
    "LustreScratchVersion",
    "MpiClusterProductStack",
    "MpiClusterVersion",
    "compatible_instance_types",
    "layout_key",
    "plan_launch_role",
    "plan_product",
]
