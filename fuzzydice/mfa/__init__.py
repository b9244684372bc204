"""Second factors: mechanisms (totp, backup_codes, lock, secret_box) and the use cases in flows."""
