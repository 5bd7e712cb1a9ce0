// Issue 9, SIGBUS: simulator BARs backed by a sparse file on a small tmpfs die with SIGBUS on a
// store once the tmpfs is full, from JS or from a wasm guest through a window; so does a store
// after the backing file was truncated. The backing must be reserved at creation (ENOSPC then, a
// clear error) and not be shrinkable. These tests mount their own 1 MiB tmpfs (root, or
// CAP_SYS_ADMIN); where that is not possible they are skipped, saying why.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { child } from './harness.js';

const mounts: string[] = [];

/** A fresh tmpfs of `size`, or the reason there is none. */
function tmpfs(size = '1m'): { dir: string } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vfio-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmdirSync(dir);
    return { reason: `cannot mount a tmpfs here (${(r.stderr || String(r.error)).trim()}): needs root or CAP_SYS_ADMIN` };
  }
  mounts.push(dir);
  return { dir };
}

afterEach(() => {
  for (const dir of mounts.splice(0)) {
    spawnSync('umount', [dir]);
    rmdirSync(dir);
  }
});

function mounted(ctx: { skip: (note?: string) => void }): string {
  const t = tmpfs();
  if ('reason' in t) {
    process.stderr.write(`test/hostile/sigbus: skipped: ${t.reason}\n`);
    ctx.skip(t.reason);
    throw new Error('unreachable');
  }
  return t.dir;
}

/** DEFAULT_SIM with its BAR0 of `size` bytes and its memory in `dir`. */
const config = (dir: string) => `
const config = (size) => ({ ...DEFAULT_SIM, shmDir: ${JSON.stringify(dir)},
  regions: DEFAULT_SIM.regions.map((r, i) => i === 0 ? { ...r, size } : r) });
`;

/**
 * A wasm module, by hand: imports env.mem (a memory of at least one page) and exports
 * store(addr: i32, value: i32), one i32.store.
 */
const GUEST = `
const guestBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x06, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00,                               // type: (i32, i32) -> ()
  0x02, 0x0c, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, // import env.mem, min 1
  0x03, 0x02, 0x01, 0x00,                                                       // one function of type 0
  0x07, 0x09, 0x01, 0x05, 0x73, 0x74, 0x6f, 0x72, 0x65, 0x00, 0x00,             // export "store"
  0x0a, 0x0b, 0x01, 0x09, 0x00, 0x20, 0x00, 0x20, 0x01, 0x36, 0x02, 0x00, 0x0b, // local.get 0, local.get 1, i32.store
]);
const guest = (mem) => new WebAssembly.Instance(new WebAssembly.Module(guestBytes), { env: { mem } }).exports;
`;

/** Fills `dir` with a file until the tmpfs says ENOSPC. */
const FILL = `
import { openSync, writeSync, closeSync } from 'node:fs';
function fill(dir) {
  const fd = openSync(dir + '/filler', 'w');
  let n = 0, code = null;
  try { for (;;) n += writeSync(fd, new Uint8Array(4096).fill(1)); } catch (e) { code = e.code; }
  closeSync(fd);
  return { n, code };
}
`;

describe('SIGBUS on a small tmpfs', () => {
  it('a BAR larger than the tmpfs: openDevice throws VfioError ENOSPC and leaves nothing behind', (ctx) => {
    const dir = mounted(ctx);
    const r = child(`${config(dir)}
      import { readdirSync } from 'node:fs';
      const fds = readdirSync('/proc/self/fd').length;
      const big = attempt(() => openDevice({ simulator: config(2n << 20n) }));
      await settle();
      report({ big, fdsBack: readdirSync('/proc/self/fd').length === fds, files: readdirSync(${JSON.stringify(dir)}), stats: native().stats() });
    `);
    expect(r.big).toMatchObject({ thrown: true, name: 'VfioError', code: 'ENOSPC', operation: 'openDevice', isVfioError: true });
    expect(r.big.message).toMatch(/ENOSPC/);
    expect(r).toMatchObject({ fdsBack: true, files: [], stats: { openDevices: 0, ranges: 0, windows: 0 } });
  });

  it('a BAR that fits, then the tmpfs filled: stores from JS and from a wasm guest through a window never SIGBUS', (ctx) => {
    const dir = mounted(ctx);
    const r = child(`${config(dir)}${GUEST}${FILL}
      const dev = openDevice({ simulator: config(256n << 10n) });
      const m = dev.map(0, { length: 0x20000 });
      const mem = new WebAssembly.Memory({ initial: 4 });
      const w = dev.mapInto(mem, 0, { offset: 0x20000, at: 0x10000, length: 0x20000 });
      const full = fill(${JSON.stringify(dir)});
      // every page, once from JS and once from the guest
      for (let off = 0; off < m.length; off += 4096) m.write32(off, 0x1000 + off / 4096);
      const { store } = guest(mem);
      for (let off = 0; off < w.size; off += 4096) store(w.base + off, 0x2000 + off / 4096);
      const dv = new DataView(dev.read(0, 0, 0x40000).buffer);
      let ok = true;
      for (let p = 0; p < 0x40; p++) ok &&= dv.getUint32(p * 4096, true) === (p < 0x20 ? 0x1000 + p : 0x2000 + p - 0x20);
      report({ full, ok });
    `);
    expect(r.full.code).toBe('ENOSPC');
    expect(r.ok).toBe(true);
  });

  it('truncating the memfd backing through simBacking().path fails (sealed), and stores keep working', () => {
    const r = child(`${GUEST}
      import { truncateSync, statSync } from 'node:fs';
      const dev = openDevice('sim');
      const m = dev.map(0);
      const mem = new WebAssembly.Memory({ initial: 4 });
      const w = dev.mapInto(mem, 0, { offset: 0x10000, at: 0x10000, length: 0x10000 });
      const { path, size } = dev.simBacking(0);
      const truncate = attempt(() => truncateSync(path, 0));
      const grow = attempt(() => truncateSync(path, Number(size) * 2));
      for (let off = 0; off < m.length; off += 4096) m.write32(off, off);
      const { store } = guest(mem);
      for (let off = 0; off < w.size; off += 4096) store(w.base + off, 7);
      report({ truncate, grow, size: statSync(path).size, last: m.read32(m.length - 4096), guest: dev.read(0, 0x1f000, 1)[0] });
    `);
    expect(r.truncate).toMatchObject({ thrown: true, code: 'EPERM' });
    expect(r.grow).toMatchObject({ thrown: true, code: 'EPERM' });
    expect(r).toMatchObject({ size: 256 * 1024, last: 256 * 1024 - 4096, guest: 7 });
  });

  it('truncating a shmDir backing through simBacking().path fails too (but for root), and stores keep working', (ctx) => {
    // The memory in shmDir is an O_TMPFILE file: memfd seals do not apply to it, so it has no
    // permission bits; the child runs unprivileged (root may open anything).
    const dir = mounted(ctx);
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    if (uid !== undefined) chmodSync(dir, 0o1777);
    const r = child(`${config(dir)}${GUEST}
      import { truncateSync, statSync } from 'node:fs';
      const dev = openDevice({ simulator: config(256n << 10n) });
      const m = dev.map(0);
      const mem = new WebAssembly.Memory({ initial: 4 });
      const w = dev.mapInto(mem, 0, { offset: 0x10000, at: 0x10000, length: 0x10000 });
      const { path } = dev.simBacking(0);
      const truncate = attempt(() => truncateSync(path, 0));
      for (let off = 0; off < m.length; off += 4096) m.write32(off, off);
      const { store } = guest(mem);
      for (let off = 0; off < w.size; off += 4096) store(w.base + off, 7);
      report({ truncate, size: statSync(path).size, last: m.read32(m.length - 4096), guest: dev.read(0, 0x1f000, 1)[0] });
    `, { uid });
    expect(r.truncate).toMatchObject({ thrown: true, code: 'EACCES' });
    expect(r).toMatchObject({ size: 256 * 1024, last: 256 * 1024 - 4096, guest: 7 });
  });
});
