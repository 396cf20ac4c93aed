/** @samsa/cli: the `samsa` command. `main(argv)` runs it in-process and resolves to the exit status. */
export { main, buildParser } from './main.js'
export type { GlobalArgs } from './main.js'
