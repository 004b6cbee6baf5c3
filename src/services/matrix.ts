/**
 * OpenAMP's matrix multiply demo on "rpmsg-openamp-demo-channel"
 * (apps/examples/matrix_multiply/matrix_multiply.c and matrix_multiplyd.c).
 *
 * Layout: `typedef struct _matrix { unsigned int size; unsigned int elements[6][6]; }` — u32
 * size at 0, then 36 u32 elements row by row (element [i][j] at 4 + 4·(6i + j)): 148 bytes.
 * A request is `struct _matrix i_matrix[2]` (296 bytes), the reply one `struct _matrix`.
 *
 * Remote (matrix_multiplyd): r.size = a.size, r[i][j] = Σ_k a[i][k]·b[k][j] for i < a.size,
 * j < b.size, k < r.size, in unsigned 32-bit arithmetic, other elements 0; replies to the
 * sender. Requests of another length, or with a size above 6 (OpenAMP would read past its
 * arrays), are dropped and logged. SHUTDOWN_MSG or the host's DESTROY end the service.
 *
 * Host (matrix_multiply): 200 times, two random 6×6 matrices with elements (rand() & 0x7F) % 10,
 * send, wait for the product. Errors as OpenAMP counts them: a reply of the wrong length is one
 * error; otherwise one error per row holding any wrong element (all 6×6 compared, size not);
 * the test stops at the first reply with errors. Then the endpoint is destroyed.
 */
import type { FirmwareContext } from '../platform/firmware.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import { echoTo, endOnShutdown, OPENAMP_DEMO_SERVICE } from './echo.js';
import { openMailbox, type HostTestContext, type HostTestResult } from './host-test.js';

export const MATRIX_MAX_SIZE = 6;
export const MATRIX_BYTES = 4 + 4 * MATRIX_MAX_SIZE * MATRIX_MAX_SIZE;
export const MATRIX_REQUEST_BYTES = 2 * MATRIX_BYTES;
export const MATRIX_ITERATIONS = 200;

export interface Matrix {
  size: number;
  /** 36 elements, row-major ([i][j] at 6i + j). */
  elements: Uint32Array;
}

export function newMatrix(size = MATRIX_MAX_SIZE): Matrix {
  return { size, elements: new Uint32Array(MATRIX_MAX_SIZE * MATRIX_MAX_SIZE) };
}

export function encodeMatrix(m: Matrix, out: Uint8Array, offset = 0): void {
  const dv = new DataView(out.buffer, out.byteOffset + offset, MATRIX_BYTES);
  dv.setUint32(0, m.size, true);
  for (let i = 0; i < m.elements.length; i++) dv.setUint32(4 + 4 * i, m.elements[i]!, true);
}

/** Read one `struct _matrix` at `offset` (the caller checked the length). */
export function decodeMatrix(data: Uint8Array, offset = 0): Matrix {
  const dv = new DataView(data.buffer, data.byteOffset + offset, MATRIX_BYTES);
  const m = newMatrix(dv.getUint32(0, true));
  for (let i = 0; i < m.elements.length; i++) m.elements[i] = dv.getUint32(4 + 4 * i, true);
  return m;
}

/** matrix_multiplyd's Matrix_Multiply, sizes already bounded to ≤ 6. */
export function multiply(a: Matrix, b: Matrix): Matrix {
  const r = newMatrix(a.size);
  const n = MATRIX_MAX_SIZE;
  for (let i = 0; i < a.size; i++) {
    for (let j = 0; j < b.size; j++) {
      let sum = 0;
      for (let k = 0; k < r.size; k++) sum = (sum + Math.imul(a.elements[i * n + k]!, b.elements[k * n + j]!)) >>> 0;
      r.elements[i * n + j] = sum;
    }
  }
  return r;
}

/** The matrix multiply remote. */
export function serveMatrix(ctx: FirmwareContext, name = OPENAMP_DEMO_SERVICE): Endpoint {
  const reply = new Uint8Array(MATRIX_BYTES);
  const ept: Endpoint = ctx.createEndpoint(
    (_owner, data, src) => {
      if (endOnShutdown(data, ept, ctx.log)) return;
      if (data.length !== MATRIX_REQUEST_BYTES) {
        ctx.log(`matrix: dropped a request of ${data.length} bytes (want ${MATRIX_REQUEST_BYTES})`);
        return;
      }
      const a = decodeMatrix(data, 0);
      const b = decodeMatrix(data, MATRIX_BYTES);
      if (a.size > MATRIX_MAX_SIZE || b.size > MATRIX_MAX_SIZE) {
        ctx.log(`matrix: dropped a request with sizes ${a.size} and ${b.size} (at most ${MATRIX_MAX_SIZE})`);
        return;
      }
      encodeMatrix(multiply(a, b), reply);
      void echoTo(ept, reply, src, ctx.log);
    },
    { name, onUnbind: () => ept.destroy() },
  );
  return ept;
}

/** rand() stand-in: a 31-bit LCG (the C library's is unspecified; only the value range matters). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 1) & 0x7fffffff;
  };
}

/** Errors in one reply, as matrix_multiply.c's callback counts them. */
export function matrixReplyErrors(got: Uint8Array, expected: Matrix): number {
  if (got.length !== MATRIX_BYTES) return 1;
  const r = decodeMatrix(got);
  let errors = 0;
  for (let i = 0; i < MATRIX_MAX_SIZE; i++) {
    for (let j = 0; j < MATRIX_MAX_SIZE; j++) {
      if (r.elements[i * MATRIX_MAX_SIZE + j] !== expected.elements[i * MATRIX_MAX_SIZE + j]) {
        errors++;
        break;
      }
    }
  }
  return errors;
}

/** The matrix multiply host test (`count` iterations, default 200). */
export async function runMatrixMultiply(ctx: HostTestContext, seed = Date.now()): Promise<HostTestResult> {
  const { ept, box } = await openMailbox(ctx, OPENAMP_DEMO_SERVICE);
  const total = ctx.count ?? MATRIX_ITERATIONS;
  const rand = lcg(seed);
  const request = new Uint8Array(MATRIX_REQUEST_BYTES);
  let messages = 0;
  let errors = 0;
  try {
    for (let c = 0; c < total && errors === 0 && !box.ended; c++) {
      const a = newMatrix();
      const b = newMatrix();
      for (const m of [a, b]) for (let i = 0; i < m.elements.length; i++) m.elements[i] = (rand() & 0x7f) % 10;
      encodeMatrix(a, request, 0);
      encodeMatrix(b, request, MATRIX_BYTES);
      await ept.send(request, { signal: ctx.signal });
      const got = await box.next(ctx.signal);
      if (got === null) break;
      messages++;
      errors += matrixReplyErrors(got, multiply(a, b));
    }
  } finally {
    ept.destroy();
  }
  if (box.ended && messages < total && errors === 0) return { messages, errors, passed: false, reason: 'the remote destroyed its endpoint' };
  return { messages, errors, passed: errors === 0 && messages === total };
}
