"""A client invites its suppliers: the form, and the CSV import."""
