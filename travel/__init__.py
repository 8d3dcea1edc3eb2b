"""travel: road and waterway travel-information aggregation (Henan, China)."""

__version__ = "0.1.0"
