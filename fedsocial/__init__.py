"""fedsocial: a small, fast ActivityPub server. Core layer package."""

__version__ = "0.1.0"
