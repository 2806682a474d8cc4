"""Child processes of the platform: nodes and reporters that must not outlive it."""
