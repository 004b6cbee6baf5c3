/** Options and statistics of the bus core, in one place. */
import type { RxBufferHold, TxBuffer } from './ops.js';

export interface SendOptions {
  /**
   * Milliseconds to wait for a tx buffer: default 15000 (the seed's 15 s); `Infinity` waits
   * forever; 0 fails at once with ETIMEDOUT; negative, NaN or ≥ 2^31 is EINVAL.
   */
  timeout?: number;
  /** Cancels the wait; the promise rejects with ABORT_ERR. */
  signal?: AbortSignal;
}

export interface CreateEndpointOptions {
  /** Local address; ADDR_ANY (default) allocates the lowest free address ≥ 1024. */
  addr?: number;
  /** Default destination; ADDR_ANY (default) is learned from the first message received. */
  dst?: number;
  /** Service name; with `announce`, an NS CREATE is sent for it. */
  name?: string;
  /**
   * Send an NS CREATE for this endpoint (name required, name service negotiated).
   * Default: true when a name is given and `dst` is ADDR_ANY (OpenAMP rpmsg_create_ept).
   */
  announce?: boolean;
  priv?: unknown;
  /** OpenAMP's ns_unbind_cb: the peer destroyed the service this endpoint is bound to by name. */
  onUnbind?: () => void;
}

export interface ChannelInfo {
  name: string;
  /** Local address; ADDR_ANY lets the default endpoint pick one. */
  src?: number;
  dst: number;
  /** Announce to the peer when probed (Linux: channels created with a fixed src by the host). */
  announce?: boolean;
}

export interface LinkLimits {
  /** Endpoints this link may hold (default 65536). */
  maxEndpoints?: number;
  /** Channels the peer may create through announcements (default 1024). */
  maxChannels?: number;
}

export interface LinkStats {
  rxMessages: number;
  rxBytes: number;
  txMessages: number;
  txBytes: number;
  /** Messages for an address with no endpoint (dropped, buffer given back). */
  rxDroppedNoEndpoint: number;
  /** Messages rejected by length checks (dropped, buffer given back). */
  rxInvalid: number;
  /** rx callbacks that threw (the error is reported, delivery goes on). */
  callbackErrors: number;
}

/**
 * What an endpoint needs of its link (RpmsgLink implements it): the one send path and the
 * buffer operations. Addresses are numbers, the sending endpoint an opaque owner, so this
 * seam knows no class of the core.
 * @internal
 */
export interface EndpointPort {
  readonly up: boolean;
  getMtu(): number;
  canSend(): boolean;
  /** Send now (true), or return false when no tx buffer is free or earlier senders wait. */
  trySend(src: number, dst: number, data: Uint8Array): boolean;
  /** Send now or queue behind earlier senders; `owner` is rejected at its destruction. */
  send(owner: object, src: number, dst: number, data: Uint8Array, options: SendOptions | undefined): Promise<void>;
  waitWritable(owner: object, options: SendOptions | undefined): Promise<void>;
  tryGetTxBuffer(): TxBuffer;
  getTxBuffer(owner: object, options: SendOptions | undefined): Promise<TxBuffer>;
  sendNocopy(buffer: TxBuffer, src: number, dst: number, len: number): void;
  releaseTxBuffer(buffer: TxBuffer): void;
  holdRxBuffer(data: Uint8Array): RxBufferHold;
  releaseRxBuffer(hold: RxBufferHold): void;
  /** The endpoint at `addr` is being destroyed: unregister it, reject its waiting sends. */
  removeEndpoint(addr: number, owner: object): void;
}
