// Starting a child process (a backend, a fake provider) and waiting for its ready line. Uses no npm
// package, so bench/postgres.mjs runs alone without tests/e2e's node_modules; harness.mjs
// re-exports it.
import { spawn } from 'node:child_process';

/** Spawns `cmd` and resolves once a stdout line matches `ready`; stop() kills it. */
export function startProcess(cmd, args, { env = {}, ready, timeoutMs = 30_000 } = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-8000); });
  const stop = () => new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
    setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${cmd} did not start:\n${stderr}`)); }, timeoutMs);
    proc.stdout.on('data', (d) => {
      out += d;
      const match = out.match(ready);
      if (match) { clearTimeout(timer); resolve({ proc, match, stop, stderr: () => stderr }); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}):\n${stderr}`)); });
  });
}
