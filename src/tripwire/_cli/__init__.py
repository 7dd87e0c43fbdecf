"""The `tripwire` command line."""
