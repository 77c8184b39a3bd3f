"""Core layer: keys, digests and HTTP signatures (draft-cavage-12 and RFC 9421).

Everything here is pure: no I/O, no network, no asyncio. Time is always passed in as ``now``.
"""
