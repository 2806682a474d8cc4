// Send a Token-2022 transfer through @solana/web3.js and @solana/spl-token, wait for it, and read the
// destination back; print what was seen as JSON. Argument: a JSON object with url, mint, source,
// destination, owner (secret key bytes) and amount (raw units, a string).
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.NODE_PATH, "noop.js"));
const web3 = require("@solana/web3.js");
const spl = require("@solana/spl-token");

const args = JSON.parse(process.argv[2]);
const connection = new web3.Connection(args.url, "confirmed");
const owner = web3.Keypair.fromSecretKey(Uint8Array.from(args.owner));
const mint = new web3.PublicKey(args.mint);
const source = new web3.PublicKey(args.source);
const destination = new web3.PublicKey(args.destination);

const mintInfo = await spl.getMint(connection, mint, "confirmed", spl.TOKEN_2022_PROGRAM_ID);
const transfer = spl.createTransferCheckedInstruction(
  source, mint, destination, owner.publicKey, BigInt(args.amount), mintInfo.decimals, [],
  spl.TOKEN_2022_PROGRAM_ID,
);
const { blockhash } = await connection.getLatestBlockhash("confirmed");
const transaction = new web3.Transaction({ feePayer: owner.publicKey, recentBlockhash: blockhash }).add(transfer);
transaction.sign(owner);
const signature = await connection.sendRawTransaction(transaction.serialize());
// Polled rather than subscribed: the endpoint serves HTTP only, as many RPC providers' plans do.
let status = null;
for (let tries = 0; tries < 100 && !status?.confirmationStatus; tries++) {
  status = (await connection.getSignatureStatuses([signature])).value[0];
  if (!status) await new Promise((done) => setTimeout(done, 50));
}
const found = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
const balance = (await connection.getTokenAccountBalance(destination)).value;
const account = await spl.getAccount(connection, destination, "confirmed", spl.TOKEN_2022_PROGRAM_ID);
console.log(JSON.stringify({
  signature,
  slot: found.slot,
  status: status.confirmationStatus,
  balance: { amount: balance.amount, decimals: balance.decimals, uiAmountString: balance.uiAmountString },
  accountAmount: account.amount.toString(),
}));
process.exit(0);
