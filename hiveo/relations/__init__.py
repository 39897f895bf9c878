"""The client side's rules (DOMAIN.md 5): relations, requirements, compliance.

Every change to a relation goes through services.py; requirements.py says
what a client requires and what a supplier must therefore keep; compliance.py
says, in Python for one relation and in SQL for lists, whether it is met.
"""
