/**
 * Turns a copy of the project's flattened spec into a standalone one for tests: its own name and
 * header, no output paths, patch or guard of the project's, and every item emitted ("emit": "all").
 */
export function makeStandalone(s: Record<string, any>, name: string): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  s.name = name;
  delete s.targets;
  delete s.uapi.patch;
  delete s.uapi.guard;
  s.uapi.emit = 'all';
  s.uapi.header = `linux/${name.replace(/-/g, '_')}.h`;
  s.uapi.includes = ['linux/types.h', 'linux/ioctl.h'];
}
