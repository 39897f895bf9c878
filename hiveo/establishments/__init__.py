"""A company's establishments from the interface: add by SIRET, edit, close."""
