import { defineConfig } from 'vitest/config';

/**
 * Two groups, run one after the other: the MMIO tests (test/mmio/: wasm guests, device-model worker
 * threads spinning on shared memory, component builds) load the CPUs hard enough to disturb the
 * timing- and RSS-sensitive tests elsewhere, so they run last, on their own.
 */
// --expose-gc: the leak tests collect garbage before they read RSS.
const shared = { testTimeout: 120_000, hookTimeout: 120_000, execArgv: ['--expose-gc'], globalSetup: ['test/setup/native.ts'] };

export default defineConfig({
  test: {
    reporters: ['default', './test/setup/skips.ts'],
    projects: [
      { test: { ...shared, name: 'main', include: ['test/**/*.test.ts'], exclude: ['test/mmio/**', '**/node_modules/**'], sequence: { groupOrder: 0 } } },
      { test: { ...shared, name: 'mmio', include: ['test/mmio/**/*.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
