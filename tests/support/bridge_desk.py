"""The bridge desk over a bridge world's relayer, holding the participant's keys on every chain."""

from tests.support.bridge import BASE, ETHEREUM, BridgeWorld

from equitoken.bridge.desk import BridgeDesk


def make_desk(world: BridgeWorld) -> BridgeDesk:
    """Return the desk acting for the participant's custodied wallets (EVM and Solana)."""
    return BridgeDesk(
        world.relayer,
        world.platform.onchain.chain.signers,
        {str(world.solana_wallet.pubkey()): world.solana_wallet},
        {ETHEREUM: "Ethereum", BASE: "Base", world.solana.chain.chain_id: "Solana"},
    )
