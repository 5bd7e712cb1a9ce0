// What the guest's wasm e1000e driver put on the wire, as QEMU's filter-dump wrote it to a pcap:
// run by test/kernel/run.sh on this machine after the guest powered off.
//
//   node test/kernel/frames-check.mjs PCAP MAC BINDING:FRAMES...
//
// The guest runs the driver once per BINDING (in this order), FRAMES frames each; every frame must
// be the one the driver's documentation (examples/e1000e/assembly/driver.ts, its file comment)
// defines for its sequence number, written out again here: 64 bytes (QEMU passes no FCS on),
// destination 02:00:00:00:00:01, source MAC (the NIC's, which run.sh gave QEMU), EtherType 0x88B5,
// the sequence number as a big-endian u32, then byte i of the rest = (seq * 7 + i) & 0xff. Nothing
// else may be in the dump. One PASS/FAIL line per binding (count, order, bytes), as run.sh prints them.
import { readFileSync } from 'node:fs';

const [pcap, macText, ...runs] = process.argv.slice(2);
const mac = Buffer.from(macText.split(':').map((h) => parseInt(h, 16)));

function expected(seq) {
  const f = Buffer.alloc(64);
  Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(f, 0);
  mac.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.writeUInt32BE(seq, 14);
  for (let i = 0; i < 64 - 18; i++) f[18 + i] = (seq * 7 + i) & 0xff;
  return f;
}

/** The frames of a classic pcap (either byte order, µs or ns timestamps). */
function frames(bytes) {
  const magic = bytes.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && bytes.readUInt32BE(0) !== 0xa1b2c3d4 && bytes.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`not a pcap (magic 0x${magic.toString(16)})`);
  const u32 = (at) => (le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  if (u32(20) !== 1) throw new Error(`link type ${u32(20)}, not Ethernet`);
  const list = [];
  for (let at = 24; at < bytes.length;) {
    if (at + 16 > bytes.length) throw new Error(`a record header cut short at byte ${at}`);
    const incl = u32(at + 8);
    const orig = u32(at + 12);
    if (at + 16 + incl > bytes.length) throw new Error(`a ${incl}-byte record cut short at byte ${at}`);
    list.push({ data: bytes.subarray(at + 16, at + 16 + incl), orig });
    at += 16 + incl;
  }
  return list;
}

const say = (verdict, name, detail) => console.log(`${verdict} host/e1000e/${name}${detail ? `: ${detail}` : ''}`);
let got;
try {
  got = frames(readFileSync(pcap));
} catch (e) {
  say('FAIL', 'pcap', `${pcap}: ${e.message}`);
  process.exit(1);
}
let at = 0;
let failed = 0;
for (const run of runs) {
  const [binding, count] = [run.split(':')[0], Number(run.split(':')[1])];
  let why = null;
  let n = 0;
  for (; n < count && at < got.length; n++, at++) {
    const f = got[at];
    const want = expected(n);
    if (f.orig !== f.data.length) { why = `frame ${n} truncated in the dump (${f.data.length} of ${f.orig} bytes)`; break; }
    if (!want.equals(f.data)) {
      const seq = f.data.length >= 18 && f.data.readUInt16BE(12) === 0x88b5 ? ` (it carries sequence number ${f.data.readUInt32BE(14)})` : '';
      why = `frame ${n} of the run differs: got ${f.data.length} bytes ${f.data.subarray(0, 24).toString('hex')}..., want ${want.subarray(0, 24).toString('hex')}...${seq}`;
      break;
    }
  }
  if (why === null && n < count) why = `${n} of ${count} frames on the wire`;
  if (why === null) say('PASS', `${binding}-frames`, `${count} frames in order, each as defined, byte for byte`);
  else { failed++; say('FAIL', `${binding}-frames`, why); }
  if (why !== null) at = got.length;	// after a mismatch the next run's frames cannot be told apart
}
if (failed === 0 && at < got.length) {
  failed++;
  say('FAIL', 'no-other-frames', `${got.length - at} frame(s) after the runs' (first: ${got[at].data.subarray(0, 24).toString('hex')}...)`);
} else if (failed === 0) say('PASS', 'no-other-frames', `${got.length} frames in the dump, all the driver's`);
process.exit(failed === 0 ? 0 : 1);
