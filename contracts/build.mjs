#!/usr/bin/env node
// Compile the contracts with solc-js from .tools (scripts/bootstrap.sh installs it) and
// write contracts/build/<Name>.json with `abi`, 0x-prefixed `bytecode` (creation code) and
// `deployedBytecode` (runtime code; what `anvil_setCode` puts at an address). Imports of
// `@openzeppelin/...` resolve to the pinned @openzeppelin/contracts under .tools/node_modules.
//
//   node contracts/build.mjs          write the artifacts
//   node contracts/build.mjs --check  compile and compare with the committed artifacts (exit 1 on a difference)
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.dirname(HERE)
const OUT = path.join(HERE, 'build')
const CONTRACTS = ['TestWallet', 'TestToken', 'Multicall']
const NODE_MODULES = path.join(ROOT, '.tools', 'node_modules')
const IMPORT_PREFIXES = ['@openzeppelin/']
const SETTINGS = {
  evmVersion: 'prague', // solc 0.8.37 defaults to osaka, which not every node runs yet
  optimizer: { enabled: true, runs: 200 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
}

let solc
try {
  solc = createRequire(import.meta.url)(path.join(NODE_MODULES, 'solc'))
} catch (error) {
  console.error(`build.mjs: solc-js not found under .tools/node_modules (run scripts/bootstrap.sh): ${error.message}`)
  process.exit(2)
}

// Source keys are bare file names so the embedded metadata does not depend on where the repo lives.
const sources = Object.fromEntries(
  CONTRACTS.map(name => [`${name}.sol`, { content: fs.readFileSync(path.join(HERE, `${name}.sol`), 'utf8') }]),
)
// Library imports keep their npm names as source unit names (e.g. `@openzeppelin/contracts/...`),
// so the metadata names the package path, never this machine's.
function findImports(unit) {
  const file = path.resolve(NODE_MODULES, unit)
  if (!IMPORT_PREFIXES.some(prefix => unit.startsWith(prefix)) || !file.startsWith(NODE_MODULES + path.sep)) {
    return { error: `build.mjs: import ${unit} is not under ${IMPORT_PREFIXES.join(', ')}` }
  }
  try {
    return { contents: fs.readFileSync(file, 'utf8') }
  } catch (error) {
    return { error: `build.mjs: ${unit} not found under .tools/node_modules (run scripts/bootstrap.sh): ${error.message}` }
  }
}
const input = JSON.stringify({ language: 'Solidity', sources, settings: SETTINGS })
const output = JSON.parse(solc.compile(input, { import: findImports }))
const errors = (output.errors ?? []).filter(e => e.severity === 'error')
for (const message of output.errors ?? []) console.error(message.formattedMessage.trim())
if (errors.length) process.exit(1)

const check = process.argv.includes('--check')
let differences = 0
fs.mkdirSync(OUT, { recursive: true })
for (const name of CONTRACTS) {
  const compiled = output.contracts[`${name}.sol`][name]
  const artifact = {
    contractName: name,
    compiler: { solc: solc.version(), evmVersion: SETTINGS.evmVersion, optimizer: SETTINGS.optimizer },
    abi: compiled.abi,
    bytecode: `0x${compiled.evm.bytecode.object}`,
    deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
  }
  const text = `${JSON.stringify(artifact, null, 2)}\n`
  const file = path.join(OUT, `${name}.json`)
  if (check) {
    const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
    if (committed !== text) {
      console.error(`build.mjs: ${path.relative(ROOT, file)} differs from a fresh compile; run node contracts/build.mjs`)
      differences += 1
    }
  } else {
    fs.writeFileSync(file, text)
  }
}
process.exit(differences ? 1 : 0)
