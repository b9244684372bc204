"""Getting funds to a user's wallet: the demo faucet (`faucet`) and payment requests for wallets (`eip681`)."""
