/** Exit selection: weighted round-robin over healthy, allowed exits, with passive ejection. */
export * from './types.ts';
export * from './swrr.ts';
export * from './health.ts';
export * from './selector.ts';
