#!/usr/bin/env node
// The `latchkey` command. Runs the TypeScript sources directly: Node 24 strips types itself.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name !== 'ExperimentalWarning') console.warn(warning)
})
await import('../src/cli/main.ts')
