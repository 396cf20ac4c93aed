import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests run against the TypeScript sources, so a package's tests never depend on a stale dist/.
// Process-level tests in test/ spawn the built JavaScript, which `pnpm test` builds first.
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: {
      '@samsa/log': src('log'),
      '@samsa/broker': src('broker'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
})
