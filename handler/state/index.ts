/** The replicated control state: commands, state machine, read views, seeding and stores. */
export * from './types.ts';
export * from './commands.ts';
export * from './machine.ts';
export * from './snapshot.ts';
export * from './seed.ts';
export * from './store.ts';
export { PAGE, pageSize } from './views.ts';
export { DEFAULT_SETTINGS } from './model.ts';
