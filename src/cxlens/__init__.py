"""cxlens: one customer view from many sources, measured with honest statistics."""

__version__ = "0.1.0"
