import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Load tests measure time: running files side by side on two cores would distort them.
    fileParallelism: false,
    pool: 'forks',
  },
});
