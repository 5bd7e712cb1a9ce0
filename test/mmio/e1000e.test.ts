// examples/e1000e end to end on the simulator's e1000e model: the AssemblyScript driver as a WASI
// command (MSI-X completions through the event loop), its C twin, and the pcap checker test:kernel
// runs on QEMU's capture of the same driver's frames. Every frame the model logged is
// compared byte for byte with the frame this test builds from the format the driver documents
// (destination 02:00:00:00:00:01, the NIC's MAC 52:54:00:12:34:56, EtherType 0x88B5, a big-endian
// sequence number, payload byte i = (seq * 7 + i) & 0xff, 64 bytes).
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileDriver, runE1000e, formatE1000e } from '../../examples/e1000e/main.js';
import { buildCTwin } from '../../tools/e1000e-bench.js';

function frame(seq: number): string {
  const f = Buffer.alloc(64);
  Buffer.from([0x02, 0, 0, 0, 0, 0x01, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x88, 0xb5]).copy(f);
  f.writeUInt32BE(seq, 14);
  for (let i = 0; i < 46; i++) f[18 + i] = (seq * 7 + i) & 0xff;
  return f.toString('hex');
}

const dir = mkdtempSync(join(tmpdir(), 'e1000e-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('example e1000e (wasm driver, WASI)', () => {
  let binary: Uint8Array;
  beforeAll(async () => {
    binary = await compileDriver();
  });

  it('300 frames: every one in the model\'s log exactly as built, in order; the summary line from the guest', async () => {
    const fd = openSync(join(dir, 'stdout'), 'w');
    let r;
    try {
      r = await runE1000e({ frames: 300, stdout: fd, binary });
    } finally {
      closeSync(fd);
    }
    expect(r.model!.log!.map((f) => Buffer.from(f).toString('hex'))).toEqual(Array.from({ length: 300 }, (_, i) => frame(i)));
    expect(r.model).toMatchObject({ frames: 300, bytes: 300 * 64, descriptors: 300, faults: 0, badRing: 0, dropped: 0, logLost: 0 });
    expect(r.interrupts).toBeGreaterThan(0);
    expect(r.tailWrites).toBe(5);   // 64 frames per tail write
    expect(r.mismatches).toBe(0);
    expect(readFileSync(join(dir, 'stdout'), 'utf8')).toMatch(/^e1000e \(wasm, WASI\): 300 frames \(19200 bytes\) in [\d.e+-]+ ms: [\d.e+-]+ ns\/frame; \d+ MSI-X interrupts, 5 tail writes\n$/);
    expect(formatE1000e(r)).toMatch(/frame log: the last 300 frames checked byte for byte: every one as built/);
  });

  it('20000 frames: the ring wraps ~20 times, every completion by MSI-X, the last 1024 frames as built', async () => {
    const fd = openSync('/dev/null', 'w');
    try {
      const r = await runE1000e({ frames: 20_000, stdout: fd, binary });
      expect(r.model).toMatchObject({ frames: 20_000, descriptors: 20_000, faults: 0, dropped: 0, logLost: 20_000 - 1024 });
      expect(r.model!.log!.map((f) => Buffer.from(f).toString('hex'))).toEqual(Array.from({ length: 1024 }, (_, i) => frame(20_000 - 1024 + i)));
      expect(r.interrupts).toBeGreaterThanOrEqual(Math.ceil(20_000 / 1024));
    } finally {
      closeSync(fd);
    }
  });

  it('npm run example:e1000e prints the summary and exits 0; a bad count or device is one line and exit 2, a missing device one line and exit 1', () => {
    const out = execFileSync(process.execPath, ['examples/run.mjs', 'e1000e', '2000', '--device', 'sim'], { encoding: 'utf8' });
    expect(out).toMatch(/^e1000e \(wasm, WASI\): 2000 frames/);
    expect(out).toMatch(/device model: 2000 frames \(128000 bytes\) from 2000 descriptors, 0 DMA faults, 0 dropped/);
    const fails = (...args: string[]): { status: number; stderr: string } => {
      try {
        execFileSync(process.execPath, ['examples/run.mjs', 'e1000e', ...args], { encoding: 'utf8', stdio: 'pipe' });
      } catch (e) {
        return { status: (e as { status: number }).status, stderr: String((e as { stderr: string }).stderr) };
      }
      return { status: 0, stderr: '' };
    };
    for (const [args, status, says] of [
      [['many'], 2, /FRAMES: expected a whole number/],
      [['10', '--device', 'eth0'], 2, /--device: expected sim, a PCI address/],
      [['10', '--device', '0000:7f:1f.7'], 1, /0000:7f:1f\.7/],
    ] as const) {
      const r = fails(...args);
      expect(r.status).toBe(status);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(says);
    }
  });
});

describe("test:kernel's frame checker (test/kernel/frames-check.mjs) on the driver's frames", () => {
  /** A classic pcap (µs, Ethernet) of the frames, as QEMU's filter-dump writes one. */
  function pcap(frames: Uint8Array[]): string {
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0); head.writeUInt16LE(2, 4); head.writeUInt16LE(4, 6); head.writeUInt32LE(65535, 16); head.writeUInt32LE(1, 20);
    const parts = [head];
    for (const f of frames) {
      const rec = Buffer.alloc(16);
      rec.writeUInt32LE(f.length, 8); rec.writeUInt32LE(f.length, 12);
      parts.push(rec, Buffer.from(f));
    }
    const path = join(dir, `dump-${frames.length}-${Math.random()}.pcap`);
    writeFileSync(path, Buffer.concat(parts));
    return path;
  }
  const check = (path: string, ...runs: string[]): { status: number; lines: string[] } => {
    const r = spawnSync(process.execPath, ['test/kernel/frames-check.mjs', path, '52:54:00:12:34:56', ...runs], { encoding: 'utf8' });
    return { status: r.status ?? -1, lines: r.stdout.trim().split('\n') };
  };

  it('passes two runs of the driver on the model, and fails a changed byte, a lost frame, a swap and a stray frame', async () => {
    const binary = await compileDriver();
    const logs: Uint8Array[] = [];
    const sink = openSync('/dev/null', 'w');
    for (const frames of [300, 200]) logs.push(...(await runE1000e({ frames, binary, stdout: sink })).model!.log!);
    closeSync(sink);
    expect(logs).toHaveLength(500);
    expect(check(pcap(logs), 'stock:300', 'variant:200')).toEqual({ status: 0, lines: [
      'PASS host/e1000e/stock-frames: 300 frames in order, each as defined, byte for byte',
      'PASS host/e1000e/variant-frames: 200 frames in order, each as defined, byte for byte',
      "PASS host/e1000e/no-other-frames: 500 frames in the dump, all the driver's",
    ] });
    const changed = logs.map((f) => Uint8Array.from(f));
    changed[310]![40]! ^= 1;
    expect(check(pcap(changed), 'stock:300', 'variant:200').lines[1]).toMatch(/^FAIL host\/e1000e\/variant-frames: frame 10 of the run differs/);
    expect(check(pcap(logs.filter((_f, i) => i !== 299)), 'stock:300', 'variant:200').lines[0]).toMatch(/^FAIL host\/e1000e\/stock-frames: frame 299 of the run differs: .* \(it carries sequence number 0\)/);
    expect(check(pcap(logs.slice(0, 499)), 'stock:300', 'variant:200').lines[1]).toBe('FAIL host/e1000e/variant-frames: 199 of 200 frames on the wire');
    expect(check(pcap([...logs.slice(0, 5), logs[6]!, logs[5]!, ...logs.slice(7)]), 'stock:300', 'variant:200').lines[0]).toMatch(/frame 5 of the run differs/);
    const stray = check(pcap([...logs, logs[0]!]), 'stock:300', 'variant:200');
    expect(stray.status).toBe(1);
    expect(stray.lines[2]).toMatch(/^FAIL host\/e1000e\/no-other-frames: 1 frame\(s\) after the runs'/);
    expect(check(join(dir, 'none.pcap'), 'stock:1').lines[0]).toMatch(/^FAIL host\/e1000e\/pcap: .*ENOENT/);
  });
});

describe('the C twin (examples/e1000e/driver.c)', () => {
  it('sends the same frames through the same model: its log as built, every frame counted, no fault', () => {
    const run = buildCTwin(dir);
    const r = run(5000, 100, join(dir, 'c.log'));
    expect(r).toMatchObject({ frames: 5000, modelFrames: 5000, faults: 0, checked: 1024, mismatches: 0 });
    expect(r.irqNs).toBeGreaterThan(0);
    const log = readFileSync(join(dir, 'c.log'));
    const frames: string[] = [];
    for (let at = 0; at < log.length; at += 4 + log.readUInt32LE(at)) frames.push(log.subarray(at + 4, at + 4 + log.readUInt32LE(at)).toString('hex'));
    expect(frames).toEqual(Array.from({ length: 1024 }, (_, i) => frame(5000 - 1024 + i)));
  });
});
