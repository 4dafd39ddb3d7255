/**
 * Milliseconds on the machine's monotonic clock. `process.hrtime` reads CLOCK_MONOTONIC,
 * which on Linux is one clock for every process, so a time taken in one process (the
 * writer's send) and one taken in another (a client's receipt) may be subtracted.
 */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;
