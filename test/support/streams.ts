/**
 * Stream helpers shared by tests that move bytes through a MuxStream.
 */
import type { MuxStream } from '../../shared/mux/stream.ts';

/**
 * Writes `data` on an open stream (in `chunk`-byte writes), ends it and returns everything read
 * back until the peer's FIN. Writing may start before OPEN_OK: the first bytes are early data.
 */
export async function echoThrough(stream: MuxStream, data: Uint8Array, chunk = data.length): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const reading = (async () => {
    for await (const c of stream) parts.push(c.slice());
  })();
  for (let o = 0; o < data.length; o += chunk) await stream.write(data.subarray(o, o + chunk));
  stream.end();
  await reading;
  return Buffer.concat(parts);
}
