/** Baseline child process: a plain UNIX-socket echo server (argv[2] = socket path). */
import { unlinkSync } from 'node:fs';
import { createServer } from 'node:net';

const path = process.argv[2]!;
try {
  unlinkSync(path);
} catch {
  // none
}
const server = createServer((s) => {
  s.setNoDelay(true);
  s.on('data', (d) => s.write(d));
  s.on('close', () => server.close());
});
server.listen(path, () => process.stdout.write('ready\n'));
