"""ImageTools shared library: one home for what every service needs."""

__version__ = "0.1.0"
