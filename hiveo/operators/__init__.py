"""The instance operators' pages: every company, new clients, suspended accounts."""
