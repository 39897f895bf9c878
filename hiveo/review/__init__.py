"""The operators' review queue of manual uploads."""
