"""Chain access: local dev chains (anvil) and EIP-1271 contract-wallet signatures.

Reflex-free; everything here is synchronous (callers run RPC in a thread).
"""
