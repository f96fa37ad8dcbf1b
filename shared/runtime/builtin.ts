/**
 * A runtime built-in module, loaded synchronously where it exists: process.getBuiltinModule
 * (Node >= 20.16, Deno 2) lets a runtime without the module fall back, with no top-level await
 * in the import graph. Used by the files that load optional native code (native-crypto.ts,
 * libsodium.ts).
 */
export function builtin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}
