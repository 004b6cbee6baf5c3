/** The daemon's commands, for main.ts's list. */
import { ctrlCommand } from './ctrl.js';
import { listenCommand } from './listen.js';
import { lsCommand } from './ls.js';
import { pingCommand } from './ping.js';
import { sendCommand } from './send.js';
import { serveCommand } from './serve.js';

export const DAEMON_COMMANDS = [serveCommand, lsCommand, sendCommand, listenCommand, pingCommand, ctrlCommand] as const;
