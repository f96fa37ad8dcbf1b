import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runtime } from '../../../shared/runtime/detect.ts';
import { within } from './fixtures.ts';

it('onShutdownSignal() runs the handler on SIGTERM instead of the default exit', { skip: process.platform === 'win32' ? 'POSIX signals only' : false }, async () => {
  const child = fileURLToPath(new URL('./signal-child.ts', import.meta.url));
  const args = runtime === 'deno' ? ['run', '-A', child] : ['--import', 'tsx', child];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  try {
    await within(new Promise<void>((resolve) => {
      proc.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('ready')) resolve();
      });
    }), 30_000, 'child ready');
    proc.kill('SIGTERM');
    const code = await within(exited, 10_000, 'child exit');
    assert.match(out, /stopping on SIGTERM/);
    // Deno's child_process reports the signal it sent rather than the child's own exit status.
    if (runtime === 'node') assert.equal(code, 0);
  } finally {
    proc.kill('SIGKILL');
  }
});
