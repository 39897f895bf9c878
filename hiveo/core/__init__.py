"""What every feature shares: tenancy helpers, audit, locks, the clock, text helpers.

Features import from here; nothing here imports a feature.
"""
