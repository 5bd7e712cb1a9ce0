// The guest scripts' shared reporting and process probes: one `KT PASS|FAIL|INFO|SKIP <name>` line
// per check (init.sh counts them), values shown with bigints in hex, and what a check compares
// after close (the process's fds, the addon's counters, the pages charged to it).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** The addon's counters with nothing live. */
export const NONE_LIVE = { openDevices: 0, ranges: 0, windows: 0, dmaMappings: 0, dmaBuffers: 0, eventfds: 0 };

export const show = (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));
/** undefined when equal, else what differs (a check's failure). */
export const same = (got, want) => (show(got) === show(want) ? undefined : `got ${show(got)}, want ${show(want)}`);

/** This process's open fds as `n:target`. */
export const fds = () => readdirSync('/proc/self/fd').flatMap((fd) => { try { return [`${fd}:${readlinkSync(`/proc/self/fd/${fd}`)}`]; } catch { return []; } });

/** VmLck and VmPin of /proc/self/status in kB: type1 charges pinned pages to locked_vm, iommufd to pinned_vm. */
export function vmCounters() {
  const s = readFileSync('/proc/self/status', 'utf8');
  const kb = (f) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { VmLck: kb('VmLck'), VmPin: kb('VmPin') };
}

/**
 * Checks reported under `prefix`: `check(name, fn)` passes unless fn returns a string (what
 * differs) or throws; `failed()` counts the failures for the exit status.
 */
export function reporter(prefix) {
  let failures = 0;
  const out = (verdict, name, detail) => console.log(`KT ${verdict} ${prefix}/${name}${detail ? `: ${detail}` : ''}`);
  const fail = (name, detail) => { failures++; out('FAIL', name, detail); };
  async function check(name, fn) {
    let why;
    try {
      why = await fn();
    } catch (e) {
      why = `threw ${e?.stack?.split('\n').slice(0, 3).join(' | ') ?? e}`;
    }
    if (typeof why === 'string') fail(name, why); else out('PASS', name);
  }
  return { out, fail, check, failed: () => failures };
}
