import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDevice } from '../../runtime/src/device.js';
import { native } from '../../runtime/src/native.js';

/**
 * The host backend (real fds) with what a machine without VFIO has: files that cannot be mapped
 * or could shrink under a mapping must be refused before a store from JS or wasm could SIGBUS, and
 * a refused window must leave the guest's bytes as they were.
 */
const E = constants.errno;
/** The lib here has no WebAssembly typings: just what these tests use. */
const WA = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly;
const dir = mkdtempSync(join(tmpdir(), 'vfio-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('host backend', () => {
  it('a refused window (an fd that cannot be mapped) leaves the guest memory as it was', () => {
    const n = native();
    const h = n.open('/dev/null');
    const mem = new WA.Memory({ initial: 2 });
    const bytes = new Uint8Array(mem.buffer);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 13 + 5) & 0xff;
    expect(n.wasmMap(h, 0n, n.pageSize, mem, 0)).toBe(-E.ENODEV);
    for (let i = 0; i < n.pageSize * 2; i++) if (bytes[i] !== ((i * 13 + 5) & 0xff)) throw new Error(`byte ${i} changed`);
    expect(n.stats().windows).toBe(0);
    n.close(h);
  });

  it('a regular file that could shrink is not mapped (EPERM), a sealed memfd only inside it (EINVAL)', () => {
    const n = native();
    const file = join(dir, 'plain');
    writeFileSync(file, new Uint8Array(8192));
    const plain = n.open(file);
    expect(n.mmap(plain, 0n, 4096, n.PROT_READ | n.PROT_WRITE)).toBe(-E.EPERM);
    expect(n.wasmMap(plain, 0n, 4096, new WA.Memory({ initial: 1 }), 0)).toBe(-E.EPERM);
    n.close(plain);

    const dev = openDevice('sim');
    const b = dev.simBacking(0)!;
    const fd = openSync(b.path, 'r+');
    const memfd = n.adoptFd(fd);
    closeSync(fd);
    const inside = n.mmap(memfd, b.offset, Number(b.size), n.PROT_READ | n.PROT_WRITE);
    expect(typeof inside).toBe('object');
    expect(n.mmap(memfd, b.offset + b.size, 4096 * 1024, n.PROT_READ | n.PROT_WRITE)).toBe(-E.EINVAL);
    n.close(memfd);
    dev.close();
  });
});
