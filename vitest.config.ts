import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // QEMU boots under TCG are slow on a shared 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Boot tests each start a QEMU; two at once is what two cores can carry.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
