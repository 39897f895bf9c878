"""A supplier's dossier as one of its clients sees it, and the client's actions on it."""
