// The abort of a component's core module. A component has no env.abort, so the component builder
// (runtime/src/component.ts) compiles guests with this file as a library (--lib) and
// --use abort=vfio_trap_abort: the message goes out through the trap interface the builder adds to
// the guest's world (UTF-16, as AssemblyScript keeps strings), and the host throws it.

@external("trap", "abort")
declare function trap_abort(message: usize, messageLen: u32, file: usize, fileLen: u32, line: u32, column: u32): void;

export function vfio_trap_abort(message: string | null, file: string | null, line: u32, column: u32): void {
  const m = changetype<usize>(message);
  const f = changetype<usize>(file);
  trap_abort(m, m == 0 ? 0 : <u32>message!.length, f, f == 0 ? 0 : <u32>file!.length, line, column);
  unreachable();
}
