"""Accounts: sign in, sign out, password change, the users command line."""
