"""Companies, their establishments and memberships: "Gérer mes organisations"."""
