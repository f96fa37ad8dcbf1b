/**
 * Byte arrays for outputs that are overwritten whole (a sealed message), left uninitialised:
 * zeroing a 16 KiB array first measured a tenth of a libsodium seal.
 * Each is a plain Uint8Array over a store of its own outside V8's heap, even when small: a
 * typed array of up to 64 bytes made with `new Uint8Array(n)` lives on the heap, and the first
 * time native code (a socket write, libsodium) sees it V8 moves it out, which costs about 2 us.
 */
import { builtin } from './builtin.ts';

// V8 keeps typed arrays of up to this many bytes on its heap (typed_array_max_size_in_heap);
// Node's Buffer.allocUnsafeSlow has no point below it.
const ON_HEAP_MAX = 64;

const NodeBuffer = builtin<typeof import('node:buffer')>('node:buffer')?.Buffer;

/**
 * `length` bytes whose content is unspecified (Buffer.allocUnsafeSlow: no zeroing, no pool,
 * seen as a plain Uint8Array). Where node:buffer is missing, or when small, they are zeroed.
 */
export function uninitializedBytes(length: number): Uint8Array {
  if (NodeBuffer === undefined || length <= ON_HEAP_MAX) return new Uint8Array(new ArrayBuffer(length));
  const b = NodeBuffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}
