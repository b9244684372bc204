"""Authentication domain core: no Reflex in here."""
