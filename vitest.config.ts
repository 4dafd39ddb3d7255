import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql@16 has no "exports": Node loads its CJS build for libraries, so tests must too
  // (Vite would pick index.mjs, a second graphql realm).
  resolve: { alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }] },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Finds a MongoDB replica set once per run for test/store-mongodb.test.ts.
    globalSetup: ['test/setup/mongodb.ts'],
  },
});
