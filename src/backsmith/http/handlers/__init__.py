"""Handlers by family (listing, reads, changes, links, custom), and the registry of kinds."""
