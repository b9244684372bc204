"""One module per route, each with its own flat substate."""
