/**
 * OpenAMP's Linux-machine notifications (PROTOCOL.md §8): one byte on a UNIX stream socket
 * means "look at all queues"; the remote listens, the host connects. The socket closing means
 * the peer is gone.
 */
import type { Socket } from 'node:net';
import type { Doorbell } from './poll-loop.js';

const KICK = Buffer.from([1]);

export class SocketDoorbell implements Doorbell {
  readonly socket: Socket;
  private received = 0;
  private waiter: ((v: unknown) => void) | null = null;
  kicksSent = 0;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.length;
      const w = this.waiter;
      if (w !== null) {
        this.waiter = null;
        w(undefined);
      }
    });
    socket.on('close', () => {
      const w = this.waiter;
      this.waiter = null;
      w?.(undefined);
    });
  }

  kick(): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    this.kicksSent++;
    this.socket.write(KICK);
  }

  seq(): number {
    return this.received;
  }

  setParked(): void {
    // Socket kicks always wake the peer; nothing to announce.
  }

  waitAsync(seq: number): Promise<unknown> | null {
    if (this.received !== seq || this.socket.destroyed) return null;
    return new Promise((resolve) => (this.waiter = resolve));
  }
}
