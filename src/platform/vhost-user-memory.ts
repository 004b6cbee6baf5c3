/**
 * The front-end's memory as the vhost-user back-end (vhost-user-device.ts) takes it over:
 * SET_MEM_TABLE's regions mapped from the passed fds, and a vring's addresses checked against
 * the legacy contiguous layout and found in one mapped region. Runs at setup, never per message.
 */
import { VhostUserError, isRpmsgError } from '../errors.js';
import { GuestMemory, type GuestRegion } from '../memory/guest-memory.js';
import type { NativeAddon } from '../native/addon.js';
import { vringLayout, type RingPlacement } from '../virtio/vring-layout.js';
import { decodeMemTable, type VhostUserMessage, type VringAddr } from './vhost-user-message.js';

/**
 * Map every region of a SET_MEM_TABLE (`msg`'s fds are taken and closed: the mappings stay
 * valid without them), each file sealed against shrinking where it allows that; `sealed` says
 * whether all were, and `requireSealed` refuses one that is not. On any failure nothing stays
 * mapped; the error is ERR_VHOST_MEM.
 */
export function mapMemTable(
  native: NativeAddon,
  msg: VhostUserMessage,
  requireSealed: boolean,
): { memory: GuestMemory; buffers: ArrayBuffer[]; sealed: boolean } {
  const r = msg.request;
  const specs = decodeMemTable(msg);
  const fds = msg.fds.splice(0);
  const buffers: ArrayBuffer[] = [];
  let allSealed = true;
  try {
    specs.forEach((s, i) => {
      if (!(s.size > 0 && Number.isFinite(s.guestAddr) && Number.isFinite(s.userAddr) && Number.isFinite(s.mmapOffset))) {
        throw new VhostUserError('ERR_VHOST_MEM', r, `region ${i}: size or address out of range`, { size: s.size });
      }
      const sealed = native.sealShrink(fds[i]!);
      if (!sealed && requireSealed) {
        throw new VhostUserError('ERR_VHOST_MEM', r, `region ${i}: its file can be shrunk by the front-end (not a sealed memfd) and requireSealedMemory is set`);
      }
      allSealed &&= sealed;
      try {
        buffers.push(native.mmapFd(fds[i]!, s.size, s.mmapOffset));
      } catch (e) {
        throw new VhostUserError('ERR_VHOST_MEM', r, `region ${i}: cannot map ${s.size} bytes at offset ${s.mmapOffset}: ${(e as Error).message}`, {
          size: s.size,
          mmapOffset: s.mmapOffset,
        });
      }
    });
    const memory = new GuestMemory(specs.map((s, i) => ({ guestAddr: s.guestAddr, userAddr: s.userAddr, buffer: buffers[i]! })));
    return { memory, buffers, sealed: allSealed };
  } catch (e) {
    for (const b of buffers) native.munmap(b);
    if (isRpmsgError(e) && !(e instanceof VhostUserError)) throw new VhostUserError('ERR_VHOST_MEM', r, e.message);
    throw e;
  } finally {
    for (const fd of fds) native.close(fd);
  }
}

/**
 * Where a vring of `num` entries at the front-end addresses `a` is: the legacy contiguous
 * layout (desc, avail right after, used at the next multiple of a power-of-two alignment),
 * all inside one region of `memory`. ERR_VHOST_VRING / ERR_VHOST_MEM otherwise.
 */
export function placeVring(memory: GuestMemory, a: VringAddr, num: number, request: number): { placement: RingPlacement; region: GuestRegion } {
  const fail = (code: 'ERR_VHOST_VRING' | 'ERR_VHOST_MEM', message: string, details?: Record<string, number>): never => {
    throw new VhostUserError(code, request, message, details);
  };
  if (a.desc % 16 !== 0 || a.avail !== a.desc + 16 * num) {
    fail('ERR_VHOST_VRING', `vring ${a.index}: desc 0x${a.desc.toString(16)} / avail 0x${a.avail.toString(16)} not the contiguous layout`);
  }
  // The used ring sits at the first multiple of `align` after avail (legacy layout).
  const availEnd = 16 * num + 2 * (3 + num);
  const usedOff = a.used - a.desc;
  let align = 4;
  while (align <= 0x10000 && Math.ceil(availEnd / align) * align !== usedOff) align *= 2;
  if (align > 0x10000) fail('ERR_VHOST_VRING', `vring ${a.index}: used 0x${a.used.toString(16)} not at an aligned offset after avail`);
  const layout = vringLayout(num, align);
  let loc;
  try {
    loc = memory.fromUser(a.desc, layout.size);
  } catch {
    return fail('ERR_VHOST_MEM', `vring ${a.index} at 0x${a.desc.toString(16)} (+${layout.size}) outside every memory region`, {
      desc: a.desc,
      size: layout.size,
    });
  }
  return { placement: { offset: loc.offset, num, align }, region: loc.region };
}
