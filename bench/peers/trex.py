"""ERC-3643 T-REX 4.1.6 (Tokeny), deployed as Tokeny deploys it, from the artifacts in its npm package.

The six implementations (token, identity registry and its storage, claim topics and trusted
issuers registries, modular compliance) sit behind a ``TREXImplementationAuthority``, and
``TREXFactory.deployTREXSuite`` deploys the token's proxies in one transaction, with one required
claim topic, one trusted claim issuer, and two compliance modules configured through the
compliance (``CountryRestrictModule`` and ``MaxBalanceModule``, each behind its ``ModuleProxy``).
Every investor has an ONCHAINID identity made by the ``IdFactory`` and holding a KYC claim signed
by the issuer's signing key, and is registered in the identity registry with a country.

T-REX has no EIP-2612 ``permit``. Its ``burn`` is an agent burning from a holder's wallet (the
issuer redeeming), where our stock token's burner burns its own tokens.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bench.peers.base import (
    DECIMALS,
    SHARE,
    PeerActors,
    PeerFigures,
    RuleCheck,
    UnenforcedRuleError,
    expect_allowed,
    expect_revert,
)
from bench.peers.npm import ONCHAINID, TREX, artifact
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils.crypto import keccak

from equitoken.chain.evm.artifacts import Artifact
from equitoken.chain.evm.chain import EvmChain
from equitoken.chain.evm.contract import Contract

KYC_TOPIC = 1
"""The one required claim topic (its value does not change any gas figure)."""
CLAIM_SCHEME_ECDSA = 1
CLAIM_DATA = b"KYC approved"
KEY_PURPOSE_CLAIM = 3
KEY_TYPE_ECDSA = 1
COUNTRY_DE = 276
COUNTRY_BLOCKED = 408
"""ISO 3166-1 numeric for North Korea: the country the compliance's country module restricts."""
MAX_BALANCE = 1_500 * SHARE
"""Per identity: above the 1,000 shares each holder starts with, below what the rule check sends."""
VERSION = (4, 1, 6)
ZERO = "0x" + "00" * 20
# The claim issuer's signing key. Fixed, so the claims (and so the figures) are the same every run.
CLAIM_SIGNER = Account.from_key(keccak(text="equitoken gas bench: T-REX claim signer"))
BLOCKED = "Transfer not possible"

_Loader = Callable[[str], Artifact]

_T = "artifacts/contracts/"
_OID_IN_TREX = "artifacts/@onchain-id/solidity/contracts/"


@dataclass(frozen=True)
class Suite:
    """A deployed T-REX token and what registers and checks its investors."""

    token: Contract
    identity_registry: Contract
    compliance: Contract
    id_factory: Contract
    claim_issuer: Contract
    identity: Artifact


def deploy(chain: EvmChain, actors: PeerActors, modules: Path) -> Suite:
    """Deploy the implementations, the authority and factories, and a token suite through the factory."""
    admin, registrar = actors.admin, actors.registrar

    def trex(path: str) -> Artifact:
        return artifact(modules, TREX, path)

    implementations = {
        name: chain.deploy(trex(f"{_T}{path}/{name}.sol/{name}.json"), sender=admin)
        for name, path in (
            ("Token", "token"),
            ("ClaimTopicsRegistry", "registry/implementation"),
            ("IdentityRegistry", "registry/implementation"),
            ("IdentityRegistryStorage", "registry/implementation"),
            ("TrustedIssuersRegistry", "registry/implementation"),
            ("ModularCompliance", "compliance/modular"),
        )
    }
    authority = chain.deploy_contract(
        trex(f"{_T}proxy/authority/TREXImplementationAuthority.sol/TREXImplementationAuthority.json"),
        True,  # the reference authority, which holds the versions
        ZERO,
        ZERO,
        sender=admin,
    )
    authority.addAndUseTREXVersion(
        VERSION,
        (
            implementations["Token"],
            implementations["ClaimTopicsRegistry"],
            implementations["IdentityRegistry"],
            implementations["IdentityRegistryStorage"],
            implementations["TrustedIssuersRegistry"],
            implementations["ModularCompliance"],
        ),
        sender=admin,
    )

    # ONCHAINID: the identity implementation T-REX ships, behind its implementation authority.
    identity = trex(f"{_OID_IN_TREX}Identity.sol/Identity.json")
    identity_library = chain.deploy(identity, admin, True, sender=admin)
    identity_authority = chain.deploy(
        trex(f"{_OID_IN_TREX}proxy/ImplementationAuthority.sol/ImplementationAuthority.json"),
        identity_library,
        sender=admin,
    )
    id_factory = chain.deploy_contract(
        artifact(modules, ONCHAINID, "artifacts/contracts/factory/IdFactory.sol/IdFactory.json"),
        identity_authority,
        sender=admin,
    )
    factory = chain.deploy_contract(
        trex(f"{_T}factory/TREXFactory.sol/TREXFactory.json"),
        authority.address,
        id_factory.address,
        sender=admin,
    )
    id_factory.addTokenFactory(factory.address, sender=admin)
    authority.setTREXFactory(factory.address, sender=admin)

    claim_issuer = chain.deploy_contract(
        trex(f"{_OID_IN_TREX}ClaimIssuer.sol/ClaimIssuer.json"), registrar, sender=registrar
    )
    claim_issuer.addKey(_key_hash(CLAIM_SIGNER.address), KEY_PURPOSE_CLAIM, KEY_TYPE_ECDSA, sender=registrar)

    country_module = _module(chain, trex, "CountryRestrictModule", admin)
    max_module = _module(chain, trex, "MaxBalanceModule", admin)
    token_details = (
        admin,  # owner of the token and its registries once deployed
        "Apple Inc. tokenized stock (T-REX)",
        "AAPLt",
        DECIMALS,
        ZERO,  # a new identity registry storage
        ZERO,  # the factory has the IdFactory make the token's ONCHAINID
        [registrar],
        [admin],
        [country_module.address, max_module.address],
        [
            country_module.batchRestrictCountries.encode([COUNTRY_BLOCKED]),
            max_module.setMaxBalance.encode(MAX_BALANCE),
        ],
    )
    claim_details = ([KYC_TOPIC], [claim_issuer.address], [[KYC_TOPIC]])
    receipt = factory.deployTREXSuite("AAPLt", token_details, claim_details, sender=admin)
    deployed = next(e for e in factory.decode_logs(receipt) if e.name == "TREXSuiteDeployed")
    token = chain.at(deployed.args["_token"], trex(f"{_T}token/Token.sol/Token.json"))
    registry = chain.at(
        deployed.args["_ir"],
        trex(f"{_T}registry/implementation/IdentityRegistry.sol/IdentityRegistry.json"),
    )
    compliance = chain.at(
        deployed.args["_mc"], trex(f"{_T}compliance/modular/ModularCompliance.sol/ModularCompliance.json")
    )
    return Suite(token, registry, compliance, id_factory, claim_issuer, identity)


def register(chain: EvmChain, suite: Suite, actors: PeerActors, wallet: str, country: int, kyc: bool) -> None:
    """Give ``wallet`` an ONCHAINID identity, with the issuer's KYC claim if ``kyc``, and register it."""
    suite.id_factory.createIdentity(wallet, f"investor {wallet}", sender=actors.admin)
    address = suite.id_factory.getIdentity(wallet)
    if kyc:
        identity = chain.at(address, suite.identity)
        signed = keccak(abi_encode(["address", "uint256", "bytes"], [address, KYC_TOPIC, CLAIM_DATA]))
        signature = CLAIM_SIGNER.sign_message(encode_defunct(primitive=signed)).signature
        identity.addClaim(
            KYC_TOPIC, CLAIM_SCHEME_ECDSA, suite.claim_issuer.address, bytes(signature), CLAIM_DATA, "",
            sender=wallet,
        )  # fmt: skip
    suite.identity_registry.registerIdentity(wallet, address, country, sender=actors.registrar)


def check_rules(suite: Suite, actors: PeerActors) -> tuple[RuleCheck, ...]:
    """Check the registry and both modules refuse what they must, each beside the transfer they allow.

    T-REX gives one reason for every refusal, so each refused transfer has a counterpart that
    differs only in what the rule looks at (the receiver, or the amount), and must go through.
    """
    token, registry, holder = suite.token, suite.identity_registry, actors.holder
    unverified, blocked_country = actors.outsiders
    if registry.isVerified(unverified) or not registry.isVerified(blocked_country):
        raise UnenforcedRuleError("the identity registry does not see the outsiders' claims as set up")
    cases = (
        ("a transfer to an identity without the KYC claim", unverified, SHARE),
        (
            f"a transfer to a verified investor in restricted country {COUNTRY_BLOCKED}",
            blocked_country,
            SHARE,
        ),
        (
            f"a transfer taking the receiver's identity over the {MAX_BALANCE // SHARE:,}-share max balance",
            actors.other_holder,
            600 * SHARE,
        ),
    )
    checks = []
    for rule, receiver, amount in cases:
        checks.append(
            expect_revert(rule, partial(token.transfer.call, receiver, amount, sender=holder), BLOCKED)
        )
        expect_allowed(rule, partial(token.transfer.call, actors.new_holder, amount, sender=holder))
    if suite.compliance.canTransfer(holder, actors.other_holder, 600 * SHARE):
        raise UnenforcedRuleError("the compliance allows the transfer over the max balance")
    return tuple(checks)


def measure(chain: EvmChain, actors: PeerActors, modules: Path) -> PeerFigures:
    """Deploy a T-REX suite, register the investors, check its rules fire, then measure each operation."""
    suite = deploy(chain, actors, modules)
    token, admin, holder, other = suite.token, actors.admin, actors.holder, actors.other_holder
    for wallet in (holder, other, actors.burner, actors.new_holder):
        register(chain, suite, actors, wallet, COUNTRY_DE, kyc=True)
    unverified, blocked_country = actors.outsiders
    register(chain, suite, actors, unverified, COUNTRY_DE, kyc=False)
    register(chain, suite, actors, blocked_country, COUNTRY_BLOCKED, kyc=True)
    token.unpause(sender=admin)  # a T-REX token starts paused
    for account in (holder, other, actors.burner):
        token.mint(account, 1_000 * SHARE, sender=admin)
    rules = check_rules(suite, actors)

    gas = {"mint": token.mint(holder, SHARE, sender=admin).gas_used}
    gas["transfer_new"] = token.transfer(actors.new_holder, SHARE, sender=holder).gas_used
    gas["transfer_existing"] = token.transfer(other, SHARE, sender=holder).gas_used
    token.approve(actors.spender, 100 * SHARE, sender=holder)
    gas["transfer_from"] = token.transferFrom(holder, other, SHARE, sender=actors.spender).gas_used
    gas["burn"] = token.burn(actors.burner, SHARE, sender=admin).gas_used
    return PeerFigures(gas, rules)


def _module(chain: EvmChain, trex: _Loader, name: str, admin: str) -> Contract:
    # Modules are upgradeable: an implementation behind a ModuleProxy that calls initialize().
    module = trex(f"{_T}compliance/modular/modules/{name}.sol/{name}.json")
    implementation = chain.deploy_contract(module, sender=admin)
    proxy = chain.deploy(
        trex(f"{_T}compliance/modular/modules/ModuleProxy.sol/ModuleProxy.json"),
        implementation.address,
        implementation.initialize.encode(),
        sender=admin,
    )
    return chain.at(proxy, module)


def _key_hash(address: str) -> bytes:
    # ONCHAINID keys are keccak256(abi.encode(address)).
    return keccak(abi_encode(["address"], [address]))
