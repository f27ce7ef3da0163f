"""siting: where to build AI compute colonies near remote energy, and how to connect them."""

__version__ = "0.1.0"
