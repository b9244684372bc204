"""Fixtures of the auth tests: an enrolled user's full session, shared with the second-factor tests."""

from tests.mfa.conftest import sid, token, user  # noqa: F401  (fixtures)
