"""The supplier's "Mes clients": its clients, what each requires, invitations to answer."""
