"""netsuite."""
