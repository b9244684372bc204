"""Fuzzy Dice: self-hosted wallet and password sign-in with mandatory second factors."""
