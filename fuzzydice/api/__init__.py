"""The FastAPI app mounted under `/api`: cookie hand-off routes now, the JSON API later."""
