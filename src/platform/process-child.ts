/**
 * Entry of a child process running a firmware in the remote role (what spawnProcessRemote
 * starts): serve one host on the given file and socket, then exit. Argument: a JSON object
 * {firmware, shmPath, socketPath, poll}.
 */
import { ProcessRemoteServer } from './process-server.js';

interface ChildArgs {
  firmware: string;
  shmPath: string;
  socketPath: string;
  poll?: { spinWindowMs?: number; spinSliceMicros?: number };
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const server = await ProcessRemoteServer.start({
  firmware: args.firmware,
  shmPath: args.shmPath,
  socketPath: args.socketPath,
  ...(args.poll !== undefined ? { poll: args.poll } : {}),
  once: true,
});
server.on('error', (e) => {
  console.error(`rpmsg remote: ${e.message}`);
  process.exitCode = 1;
});
const stop = (): void => void server.close();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
