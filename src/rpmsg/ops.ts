/**
 * The contract a transport meets (Linux rpmsg_internal.h `rpmsg_endpoint_ops`): the bus core
 * calls these and nothing else. Optional operations, when missing, make the public call fail
 * with ENXIO, as Linux does.
 */

/** A transmit buffer lent to the caller for zero-copy sending (OpenAMP's tx payload buffer). */
export interface TxBuffer {
  /** The payload area, `getMtu()` bytes long; fill it in place. */
  readonly data: Uint8Array;
  /** Transport-private identity of the buffer. */
  readonly index: number;
}

/** Held receive buffer (OpenAMP rpmsg_hold_rx_buffer). Release it exactly once. */
export interface RxBufferHold {
  readonly data: Uint8Array;
  /** Transport-private identity of the buffer. */
  readonly token: number;
}

export interface RpmsgTransportOps {
  /** Required. Largest payload one message can carry (buffer size − 16 for virtio). */
  getMtu(): number;
  /**
   * Required. Copy `data` into a free tx buffer and send it from `src` to `dst` now. Returns
   * false when no tx buffer is free. Throws EMSGSIZE above the MTU, ENODEV when down.
   */
  trySend(src: number, dst: number, data: Uint8Array): boolean;
  /** Required. Whether a tx buffer is free right now (poll's "writable"). */
  canSend(): boolean;
  /**
   * Required. The core calls this with true while senders wait for a tx buffer, false when
   * none wait; while true, the transport calls `RpmsgLink.txReady()` when buffers come back.
   */
  setTxWaiting(waiting: boolean): void;

  /** Optional (zero-copy). A free tx buffer, or null when none. */
  getTxBuffer?(): TxBuffer | null;
  /** Optional (zero-copy). Send `len` bytes of a buffer from getTxBuffer; the buffer is consumed. */
  sendNocopy?(buffer: TxBuffer, src: number, dst: number, len: number): void;
  /** Optional (zero-copy). Give back a buffer from getTxBuffer unsent. */
  releaseTxBuffer?(buffer: TxBuffer): void;
  /** Optional. Keep the buffer being delivered past the rx callback; returns its token. */
  holdRxBuffer?(): number;
  /** Optional. Give a held rx buffer back to the peer. */
  releaseRxBuffer?(token: number): void;

  /**
   * Optional (Linux rpmsg_device_ops announce_create): tell the peer that a local service
   * `name` lives at `addr`. A transport without a name service leaves it out (nothing is sent).
   */
  announceCreate?(name: string, addr: number): void;
  /** Optional (announce_destroy): tell the peer the service at `addr` is gone. */
  announceDestroy?(name: string, addr: number): void;

  /**
   * Optional (Linux rpmsg_device_ops.create_ept). A local endpoint is being created at `addr`
   * with default destination `dst`: a transport whose endpoints are objects below it (the
   * kernel's char devices, one per endpoint) makes one here. Throws to refuse; EADDRINUSE when
   * the address is taken below (the link then tries the next free one if any would do).
   */
  createEndpoint?(addr: number, dst: number, name: string): void;
  /** Optional (Linux rpmsg_endpoint_ops.destroy_ept). The endpoint at `addr` is gone. */
  destroyEndpoint?(addr: number): void;
}
