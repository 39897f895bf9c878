"""The sync engine: runs, the switch, the command line. No Flask request in it."""
