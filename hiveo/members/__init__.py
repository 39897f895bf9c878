"""The people of a company: members, roles, invitations by e-mail."""
