"""The issuer of private-company shares: valuations, issuance rounds, buybacks and the transfer agent."""
