import type { WaitingRoomOptions } from './waiting-room';

/** The waiting-room scenario's sizes: lobbies of 10k, 100k and 1M (--quick: 10k and 50k). */
export const waitingOptions = (quick: boolean): WaitingRoomOptions => ({
  lobbies: quick ? [10_000, 50_000] : [10_000, 100_000, 1_000_000],
  admitPerSecond: 5_000,
  maxActive: 10_000,
  shopMs: 3_000,
  admissionSeconds: quick ? 8 : 20,
  httpJoins: quick ? 5_000 : 20_000,
  inFlight: 500,
  scriptedJoins: quick ? 20_000 : 100_000,
  probes: 2_000,
});
