// Compile Solidity with solc-js's standard-JSON interface, for peers that ship sources only.
//
//   node solc_standard_json.js <solc package dir> <import root>  < input.json  > output.json
//
// Reads a standard-JSON input on stdin and prints {"version": <solc version>, "output": <standard-JSON
// output>} on stdout. Sources the input does not hold are read from <import root> by their source unit
// name (e.g. "src/interfaces/IIrm.sol"), and from nowhere else.
"use strict";

const fs = require("fs");
const path = require("path");

const [solcDir, importRoot] = process.argv.slice(2);
if (!solcDir || !importRoot) {
  process.stderr.write("usage: node solc_standard_json.js <solc package dir> <import root> < input.json\n");
  process.exit(2);
}

const solc = require(path.resolve(solcDir));
const root = path.resolve(importRoot);

function findImports(name) {
  const file = path.resolve(root, name);
  if (!file.startsWith(root + path.sep)) return { error: `${name} is outside ${root}` };
  try {
    return { contents: fs.readFileSync(file, "utf8") };
  } catch (err) {
    return { error: `cannot read ${name}: ${err.message}` };
  }
}

const input = fs.readFileSync(0, "utf8");
const output = JSON.parse(solc.compile(input, { import: findImports }));
process.stdout.write(JSON.stringify({ version: solc.version(), output }));
