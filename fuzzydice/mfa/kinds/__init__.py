"""The kinds of second factor, by their registry name (see `fuzzydice.mfa.registry.FactorKind`)."""

from __future__ import annotations

from fuzzydice.mfa.kinds.backup_codes import BackupCodesKind
from fuzzydice.mfa.kinds.totp import TotpKind
from fuzzydice.mfa.registry import FactorKind

KINDS: dict[str, FactorKind] = {kind.kind: kind for kind in (TotpKind(), BackupCodesKind())}
"""Every kind this server knows; the journey offers only kinds listed here."""
