#!/usr/bin/env node
import { main } from './main.js'

// `samsa consume ... | head`: a reader that goes away is the end of the job, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0)
  throw err
})

process.exitCode = await main(process.argv.slice(2))
