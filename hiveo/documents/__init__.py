"""The dossier: document catalogue, states, upload, review, versions and archive."""
