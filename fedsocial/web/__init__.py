"""Core layer: HTTP edge helpers shared by every package (errors, negotiation, JSON answers)."""
