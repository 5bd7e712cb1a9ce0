// examples/e1000e end to end on the simulator's e1000e model: the AssemblyScript driver as a WASI
// command (MSI-X completions through the event loop) and its C twin. Every frame the model logged is
// compared byte for byte with the frame this test builds from the format the driver documents
// (destination 02:00:00:00:00:01, the NIC's MAC 52:54:00:12:34:56, EtherType 0x88B5, a big-endian
// sequence number, payload byte i = (seq * 7 + i) & 0xff, 64 bytes).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
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

  it('npm run example:e1000e prints the summary and exits 0; a bad count is one line and exit 2', () => {
    const out = execFileSync(process.execPath, ['examples/run.mjs', 'e1000e', '2000'], { encoding: 'utf8' });
    expect(out).toMatch(/^e1000e \(wasm, WASI\): 2000 frames/);
    expect(out).toMatch(/device model: 2000 frames \(128000 bytes\) from 2000 descriptors, 0 DMA faults, 0 dropped/);
    let status = 0, stderr = '';
    try {
      execFileSync(process.execPath, ['examples/run.mjs', 'e1000e', 'many'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(status).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
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
