"""The client's "Mes fournisseurs" tab: the list of its suppliers and its exports."""
