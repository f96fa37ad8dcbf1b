/** Prometheus metrics: a runtime-neutral registry and the APFSDS metric catalog. */
export * from './catalog.ts';
export * from './registry.ts';
