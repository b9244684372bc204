"""Wallet identities: Sign-In with Ethereum challenges, verification, accounts keyed by address."""
