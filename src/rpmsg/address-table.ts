/**
 * A link's local address space (Linux's endpoint idr, OpenAMP's address bitmap): fixed
 * addresses on request, else the lowest free address from `first` up.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY } from './constants.js';

export class AddressTable<T> {
  private readonly map = new Map<number, T>();
  private lowestFree: number;

  constructor(
    private readonly first: number,
    private readonly max: number,
  ) {
    this.lowestFree = first;
  }

  get size(): number {
    return this.map.size;
  }

  get(addr: number): T | undefined {
    return this.map.get(addr);
  }

  values(): T[] {
    return [...this.map.values()];
  }

  /** Register `make(addr)` at `wanted`, or at a fresh address when `wanted` is ADDR_ANY. */
  insert(wanted: number, make: (addr: number) => T): T {
    if (this.map.size >= this.max) throw new RpmsgError('ENOMEM', 'endpoint limit reached', { max: this.max });
    let addr = wanted;
    if (wanted === RPMSG_ADDR_ANY) {
      addr = this.lowestFree;
      while (this.map.has(addr)) addr++;
      if (addr >= RPMSG_ADDR_ANY) throw new RpmsgError('ENOMEM', 'no free address');
      this.lowestFree = addr + 1;
    } else if (this.map.has(wanted)) {
      throw new RpmsgError('EADDRINUSE', `address ${wanted} is taken`, { addr: wanted });
    }
    const value = make(addr);
    this.map.set(addr, value);
    return value;
  }

  /** Free `addr` if it still holds `value`; returns whether it did. */
  remove(addr: number, value: T): boolean {
    if (this.map.get(addr) !== value) return false;
    this.map.delete(addr);
    if (addr >= this.first && addr < this.lowestFree) this.lowestFree = addr;
    return true;
  }
}
