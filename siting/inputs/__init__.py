"""SitingInputs, the one geo -> math seam: geography, pricing, diagnosis, benchmark readers."""

from .inputs import LINKS, SitingInputs, UnitCosts, from_cost_matrix, from_layers

__all__ = ["SitingInputs", "UnitCosts", "from_layers", "from_cost_matrix", "LINKS"]
