"""promoctl: evidence-based, consistent and auditable promotion decisions."""

__version__ = "0.1.0"
