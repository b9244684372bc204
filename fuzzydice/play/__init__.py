"""Play sessions started on /launch: a chain, a length and a spending limit; one running per account."""
