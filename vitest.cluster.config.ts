import { defineConfig } from 'vitest/config';
import base from './vitest.config';

/**
 * The second pass of `npm test`: the suites that exercise Redis hardest, again on the local
 * Redis Cluster (TEST_REDIS_CLUSTER_NODES, set by the test:cluster script). The failover
 * drills are not here: they run in the first pass on private clusters of their own.
 */
export default defineConfig({
  test: {
    ...base.test,
    include: [
      'test/reservations.test.ts',
      'test/contention.test.ts',
      'test/seats/contention-http.test.ts',
      'test/redis-loss.test.ts',
      'test/queue.test.ts',
      'test/queue-skip.test.ts',
      'test/queue-multi.test.ts',
    ],
    // One file at a time: the first pass already loaded the machine, and the waiting-room
    // and contention suites are sensitive to a starved event loop.
    maxWorkers: 1,
    // Stream lifecycle (listeners, timers) does not depend on Redis; it has run once already.
    testNamePattern: /^(?!.*open\/close cycles)/,
  },
});
