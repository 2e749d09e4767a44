"""One module per flow; orchestration over ports only."""
