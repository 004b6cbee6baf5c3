/** The daemon's commands, by name, for main.ts. */
import { runCtrl } from './ctrl.js';
import { runListen } from './listen.js';
import { runLs } from './ls.js';
import { runPing } from './ping.js';
import { runSend } from './send.js';
import { runServe } from './serve.js';

export const DAEMON_COMMANDS: Readonly<Record<string, (args: string[]) => Promise<number>>> = {
  serve: runServe,
  ls: runLs,
  send: runSend,
  listen: runListen,
  ping: runPing,
  ctrl: runCtrl,
};
