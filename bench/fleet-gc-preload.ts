/**
 * Loaded into the operator by the fleet bench only (`node --expose-gc --import …`): SIGUSR2 runs a
 * full garbage collection, so the heap the bench reads next is what the operator keeps alive.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
