"""The oracle network: reporters sign observations, a transmitter brings a quorum of them on-chain."""
