"""The platform as one running process: settings, demo data, on-chain upkeep and the run loop."""
