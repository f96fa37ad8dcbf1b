// Child process for process.test.ts: waits for SIGTERM through onShutdownSignal(), then exits 0.
import { exitProcess, onShutdownSignal } from '../../../shared/runtime/process.ts';

const keepAlive = setInterval(() => {}, 1_000);
onShutdownSignal((signal) => {
  clearInterval(keepAlive);
  process.stdout.write(`stopping on ${signal}\n`, () => exitProcess(0));
});
process.stdout.write('ready\n');
