import { EventEmitter } from 'node:events';
import * as abi from './generated/vfio-subregion.js';
import { native, type DeviceHandle, type IrqHandle } from './native.js';
import { DeviceStateError, errnoName, VfioError } from './errors.js';
import { hostArch } from './codec-support.js';

const ARCH = hostArch() ?? 'x86_64';
const SET_IRQS = abi.ioctlNumber('VFIO_DEVICE_SET_IRQS', ARCH);
const { VfioIrqSetFlags: SF } = abi;

/** One interrupt: the vector (its number within the IRQ index) and how many signals it stands for. */
export interface InterruptEvent {
  vector: number;
  /** Signals since the last event of this vector (an eventfd counts them; the loop reads them at once). */
  count: number;
}

/** What an Interrupts needs of its Device. */
export interface IrqOwner {
  handle(): DeviceHandle;
  /** Whether another open set holds vectors of `index` (then closing this one must not disable it). */
  shared(irqs: Interrupts): boolean;
}

/**
 * Interrupts of one IRQ index as events: an eventfd per vector, given to the device with
 * VFIO_DEVICE_SET_IRQS (ACTION_TRIGGER | DATA_EVENTFD) and watched on the event loop (the addon's
 * uv_poll), so waiting blocks nothing. Each interrupt is an `'interrupt'` event
 * ({@link InterruptEvent}); `for await (const ev of irqs)` and `next()` wait for them. While open it
 * keeps the event loop alive, unless `unref()`'d. `close()` (or the device's) gives the vectors
 * back: the index is disabled when no other open set uses it, else only its vectors lose their
 * eventfds.
 */
export class Interrupts extends EventEmitter<{ interrupt: [InterruptEvent]; close: [] }> {
  readonly index: number;
  readonly start: number;
  readonly count: number;
  readonly #owner: IrqOwner;
  readonly #irq: IrqHandle;
  #closed = false;
  /** Waiters of next() and async iterators, and what arrived while none waited. */
  readonly #waiters: ((ev: InterruptEvent | null) => void)[] = [];
  readonly #queue: InterruptEvent[] = [];
  #queueing = 0;

  /** @internal Use Device.interrupts(). */
  constructor(owner: IrqOwner, index: number, start: number, count: number) {
    super();
    this.index = index;
    this.start = start;
    this.count = count;
    this.#owner = owner;
    this.#irq = native().irqCreate(count, (i, n) => this.#deliver({ vector: start + i, count: n }));
    const arg = abi.VfioIrqSet.encode({
      flags: SF.VFIO_IRQ_SET_DATA_EVENTFD | SF.VFIO_IRQ_SET_ACTION_TRIGGER,
      index, start, count, data: new Uint8Array(4 * count),
    });
    const r = native().irqSetEventfds(owner.handle(), this.#irq, arg);
    if (r < 0) {
      native().irqClose(this.#irq);
      this.#closed = true;
      throw new VfioError('interrupts', 'ioctl', -r, null, irqCause(errnoName(-r), index, start, count));
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  #deliver(ev: InterruptEvent): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w(ev);
    else if (this.#queueing > 0) this.#queue.push(ev);
    this.emit('interrupt', ev);
  }

  /** The next interrupt (one already arrived while an iterator was open first); null once closed. */
  next(): Promise<InterruptEvent | null> {
    const q = this.#queue.shift();
    if (q !== undefined) return Promise.resolve(q);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<InterruptEvent, void, undefined> {
    this.#queueing++;
    try {
      for (;;) {
        const ev = await this.next();
        if (ev === null) return;
        yield ev;
      }
    } finally {
      if (--this.#queueing === 0) this.#queue.length = 0;
    }
  }

  /** Keeps the event loop alive while open (the default). */
  ref(): this {
    if (!this.#closed) native().irqRef(this.#irq, true);
    return this;
  }

  /** Lets the process exit while waiting for interrupts. */
  unref(): this {
    if (!this.#closed) native().irqRef(this.#irq, false);
    return this;
  }

  /**
   * Gives the vectors back (SET_IRQS: DATA_NONE with count 0 disables the index; while another set
   * uses it, -1 for each of this set's vectors), closes the eventfds, ends iterators. Idempotent; on a
   * closed device only the eventfds are closed (the device released its own references).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    let handle: DeviceHandle | null = null;
    try {
      handle = this.#owner.handle();
    } catch (e) {
      if (!(e instanceof DeviceStateError)) throw e;
    }
    try {
      if (handle !== null) {
        const arg = !this.#owner.shared(this)
          ? abi.VfioIrqSet.encode({ flags: SF.VFIO_IRQ_SET_DATA_NONE | SF.VFIO_IRQ_SET_ACTION_TRIGGER, index: this.index, start: 0, count: 0, data: new Uint8Array(0) })
          : abi.VfioIrqSet.encode({ flags: SF.VFIO_IRQ_SET_DATA_EVENTFD | SF.VFIO_IRQ_SET_ACTION_TRIGGER, index: this.index, start: this.start, count: this.count, data: new Uint8Array(4 * this.count).fill(0xff) });
        const r = native().ioctl(handle, SET_IRQS, arg);
        if (r < 0) throw new VfioError('interrupts.close', 'ioctl', -r, null, `VFIO_DEVICE_SET_IRQS releasing index ${this.index}: ${errnoName(-r)}`);
      }
    } finally {
      native().irqClose(this.#irq);
      for (const w of this.#waiters.splice(0)) w(null);
      this.emit('close');
    }
  }
}

/** Why SET_IRQS refused (vfio_set_irqs_validate_and_prepare and vfio_pci_set_msi_trigger, in order). */
export function irqCause(errno: string, index: number, start: number, count: number): string {
  const what = `VFIO_DEVICE_SET_IRQS of index ${index}, vectors [${start}, ${start + count})`;
  switch (errno) {
    case 'EINVAL': return `${what}: the index does not have these vectors, or another index (INTx, MSI, MSI-X: one at a time) is active`;
    case 'ENOTTY': return `${what}: the index does not take this action`;
    case 'EBADF': return `${what}: an eventfd is not open`;
    default: return `${what}: ${errno}`;
  }
}
