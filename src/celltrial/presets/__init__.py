"""Disease and product presets: data files with sources, validated against the standard model."""

from .loader import combined_parameters as combined_parameters
from .loader import load_disease as load_disease
from .loader import load_product as load_product
from .loader import parse_preset as parse_preset
from .loader import preset_names as preset_names
from .schema import Disease as Disease
from .schema import Product as Product

__all__ = ["Disease", "Product", "combined_parameters", "load_disease", "load_product", "parse_preset",
           "preset_names"]
