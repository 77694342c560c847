#!/usr/bin/env node
// The `latchkey` command. Runs the TypeScript sources directly: Node 24 strips types itself.
//
// Started by an older Node (the system's `node bin/latchkey.js`), it hands over to the project's
// own Node 24 (the npm package `node` in node_modules) instead of failing on the first `.ts`
// import; without one it says in one line which Node it needs. This file therefore uses nothing
// an older Node cannot parse.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const NEEDED_MAJOR = 24
const major = Number(process.versions.node.split('.')[0])

if (major >= NEEDED_MAJOR) {
  process.removeAllListeners('warning')
  process.on('warning', (warning) => {
    if (warning.name !== 'ExperimentalWarning') console.warn(warning)
  })
  await import('../src/cli/main.ts')
} else {
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url))
  // The guard against a loop: a project "Node" that is itself too old says so instead of re-running.
  if (existsSync(projectNode) && process.env.LATCHKEY_NODE_HANDOVER !== '1') {
    const child = spawn(projectNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, LATCHKEY_NODE_HANDOVER: '1' } })
    // A terminal's Ctrl-C reaches both processes (one process group): this one waits for the
    // child's exit. Signals sent to this process alone (a supervisor's SIGTERM) are passed on.
    process.on('SIGINT', () => {})
    for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
    child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)))
    child.on('error', (err) => {
      console.error(`latchkey: could not start the project's Node.js at ${projectNode}: ${err.message}`)
      process.exit(1)
    })
  } else {
    console.error(`latchkey needs Node.js ${NEEDED_MAJOR} or newer (this is ${process.version}): run \`npx latchkey\` in the project after \`npm ci\` (it brings Node.js ${NEEDED_MAJOR}), or install Node.js ${NEEDED_MAJOR}.`)
    process.exit(1)
  }
}
