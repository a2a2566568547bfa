"""hpc-constructs: AWS CDK v2 constructs for high-performance computing on AWS."""

from hpc_constructs.capacity import CapacityKind, FleetCapacity
from hpc_constructs.errors import HpcValidationError, Problem, Validator

__all__ = ["CapacityKind", "FleetCapacity", "HpcValidationError", "Problem", "Validator"]
