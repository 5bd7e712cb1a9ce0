import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTargets, render } from '../../codegen/generate.js';
import { flattenSpec, loadSpec, ROOT } from '../../codegen/load.js';
import {
  camel, cComment, cDefineValue, cItem, columns, cProse, cUnsigned, digits, jsDoc, lineComment, mdParagraph, pascal, snake,
  tsDocComments, tsNumber, upper, witDoc, words, wrap, wrapDoc,
} from '../../codegen/emit/printer.js';

/**
 * The shared printer, checked against expectations written out here (not computed by the printer):
 * the wrapping algorithm and its width policy in every comment style, the hex/decimal rule at its
 * thresholds, name derivation, and the preamble every generated file starts with.
 */

const widest = (lines: string[]): number => Math.max(...lines.map(columns));

describe('wrapping', () => {
  it('fills lines greedily up to the width, exactly', () => {
    expect(wrap('aaaa bbbb cccc', '', '', 9)).toEqual(['aaaa bbbb', 'cccc']);
    expect(wrap('aaaa bbbb cccc', '', '', 8)).toEqual(['aaaa', 'bbbb', 'cccc']);
    expect(wrap('aaaa bbbb cccc', '> ', '  ', 11)).toEqual(['> aaaa bbbb', '  cccc']);
    expect(wrap('  spaced \n out\ttext  ', '', '', 80)).toEqual(['spaced out text']);
  });

  it('never breaks a word longer than the width: it stands alone on its line', () => {
    const long = 'x'.repeat(30);
    expect(wrap(`a ${long} b`, '', '', 10)).toEqual(['a', long, 'b']);
    expect(wrap(long, ' * ', ' * ', 10)).toEqual([` * ${long}`]);
  });

  it('keeps a URL whole, hyphens, slashes and all', () => {
    const url = 'https://www.kernel.org/doc/html/latest/driver-api/vfio.html#vfio-usage-example';
    const lines = cProse(`The usage example at ${url} shows the whole sequence of calls.`);
    expect(lines).toContain(` * ${url}`);
    expect(lines.join('\n')).toContain(url);
    expect(lines.filter((l) => l.includes('https'))).toHaveLength(1);
  });

  it('counts tabs to the next multiple of 8, as kernel style does', () => {
    expect(columns('\t')).toBe(8);
    expect(columns(' *\tx')).toBe(9);
    expect(columns('abc\tx')).toBe(9);
    // kernel-doc items continue after ' *\t' (8 columns), so less fits on continuation lines.
    const item = cItem(`@member: ${'word '.repeat(30)}`);
    expect(item[0]).toMatch(/^ \* @member: word/);
    for (const l of item.slice(1)) expect(l).toMatch(/^ \*\tword/);
    expect(widest(item)).toBeLessThanOrEqual(80);
  });

  it('keeps empty lines and indentation, and hangs a list item under its text', () => {
    expect(wrapDoc('first\n\nsecond', ' * ', 80)).toEqual([' * first', ' *', ' * second']);
    expect(wrapDoc('- one two three four', '', 12)).toEqual(['- one two', '  three four']);
    expect(wrapDoc('12. one two three four', '', 14)).toEqual(['12. one two', '    three four']);
    expect(wrapDoc('    code  stays indented', '// ', 80)).toEqual(['//     code stays indented']);
  });

  it('never starts a continuation line with something that would change its meaning there', () => {
    // a TSDoc tag or kernel-doc member, a list marker, a heading
    expect(wrap('see @param below', '', '', 4)).toEqual(['see @param', 'below']);
    expect(wrap('left - right', '', '', 5)).toEqual(['left -', 'right']);
    expect(wrap('step 1. done', '', '', 5)).toEqual(['step 1.', 'done']);
    expect(wrap('go # here', '', '', 3)).toEqual(['go #', 'here']);
    // ...and keeps a code span whole
    expect(wrap('call `a | b | c` now', '', '', 6)).toEqual(['call', '`a | b | c`', 'now']);
  });

  it('C block comments: /* or /** with " * " lines and " *" between paragraphs', () => {
    expect(cComment([cProse('One.'), cItem('@a: Two.')], '/**')).toEqual(['/**', ' * One.', ' *', ' * @a: Two.', ' */']);
    expect(cComment([cProse('x')], '/*', '\t')).toEqual(['\t/*', '\t * x', '\t */']);
    expect(cProse('a */ b')).toEqual([' * a *\\/ b']);
  });

  it('TSDoc / AssemblyScript: one line while it fits in 100 columns, else wrapped at the indentation', () => {
    const fits = 'y'.repeat(93); // '/** ' + 93 + ' */' = 100 columns
    expect(jsDoc(fits)).toEqual([`/** ${fits} */`]);
    expect(jsDoc(`${fits}y`)).toEqual(['/**', ` * ${fits}y`, ' */']);
    expect(jsDoc(fits, '  ')).toEqual(['  /**', `   * ${fits}`, '   */']);
    expect(jsDoc('')).toEqual([]);
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(6).trim();
    const lines = jsDoc(text, '    ', 'ts');
    expect(lines[0]).toBe('    /**');
    expect(lines.at(-1)).toBe('     */');
    for (const l of lines.slice(1, -1)) expect(l).toMatch(/^ {4} \* \S/);
    expect(widest(lines)).toBeLessThanOrEqual(100);
    expect(jsDoc('Brief.\n\n@param x - The x.')).toEqual(['/**', ' * Brief.', ' *', ' * @param x - The x.', ' */']);
  });

  it('rewraps the doc comments of printed TypeScript at their indentation', () => {
    const long = 'word '.repeat(30).trim();
    const src = `/** short */\nconst a = 1;\nfunction f() {\n  /**\n   * ${long}\n   *\n   * @returns x\n   */\n}\n`;
    const out = tsDocComments(src).split('\n');
    expect(out[0]).toBe('/** short */');
    expect(out[3]).toBe('  /**');
    expect(out).toContain('   *');
    expect(out).toContain('   * @returns x');
    expect(widest(out)).toBeLessThanOrEqual(100);
    expect(out.filter((l) => l.startsWith('   * word'))).toHaveLength(2);
  });

  it('line comments (// and WIT ///) and Markdown paragraphs use the same algorithm at 100 columns', () => {
    const text = 'word '.repeat(40).trim();
    const slashes = lineComment(text);
    expect(slashes.every((l) => l.startsWith('// word'))).toBe(true);
    expect(slashes[0]).toBe(`// ${'word '.repeat(19).trim()}`); // 3 + 19 * 5 - 1 = 97; a 20th word would make 102
    expect(witDoc('One volatile read.', '  ')).toEqual(['  /// One volatile read.']);
    const md = mdParagraph(`- **NAME**: ${text}`);
    expect(md[0]).toMatch(/^- \*\*NAME\*\*: word/);
    for (const l of md.slice(1)) expect(l).toMatch(/^ {2}word/);
    expect(widest(md)).toBeLessThanOrEqual(100);
  });
});

describe('numbers: one rule for hex or decimal, spelled per target', () => {
  it('bit patterns are hex from 10, quantities from 4096', () => {
    expect(digits(9n, 'bits')).toBe('9');
    expect(digits(10n, 'bits')).toBe('0xa');
    expect(digits(0x3b75n, 'bits')).toBe('0x3b75');
    expect(digits(4095n, 'quantity')).toBe('4095');
    expect(digits(4096n, 'quantity')).toBe('0x1000');
    expect(digits(-4096n, 'quantity')).toBe('-0x1000');
    expect(digits(0n, 'bits')).toBe('0');
    expect(digits(0xaan, 'hex')).toBe('0xaa');	// a value the spec spelled in hex
    expect(digits(0n, 'hex')).toBe('0x0');
  });

  it('C #define values: the type kernel headers give them (int while int holds it), parenthesized unless plain digits', () => {
    // <linux/vfio.h>: #define VFIO_BASE 100, #define VFIO_DEVICE_FEATURE_MASK (0xffff); <linux/userfaultfd.h>: #define UFFDIO 0xAA
    expect(cDefineValue(100n, 'quantity')).toBe('100');
    expect(cDefineValue(0xffffn, 'bits')).toBe('(0xffff)');
    expect(cDefineValue(0xaan, 'hex')).toBe('(0xaa)');
    expect(cDefineValue(0x7fffffffn, 'bits')).toBe('(0x7fffffff)');
    expect(cDefineValue(0x80000000n, 'bits')).toBe('(0x80000000U)');
    expect(cDefineValue(0x100000000n, 'bits')).toBe('(0x100000000ULL)');
  });

  it('C: U for hex or for what int cannot hold, ULL for a 64-bit type or value', () => {
    expect(cUnsigned(4095n, 32, 'quantity')).toBe('4095');
    expect(cUnsigned(4096n, 32, 'quantity')).toBe('0x1000U');
    expect(cUnsigned(9n, 32, 'bits')).toBe('9');
    expect(cUnsigned(10n, 32, 'bits')).toBe('0xaU');
    expect(cUnsigned(0x80000000n, 32, 'bits')).toBe('0x80000000U');
    expect(cUnsigned(5n, 64, 'quantity')).toBe('5ULL');
    expect(cUnsigned(0xffffffffn, 32, 'bits')).toBe('0xffffffffU');
    expect(cUnsigned(0x100000000n, 32, 'bits')).toBe('0x100000000ULL');
  });

  it('TypeScript: a bigint literal (n) when asked or past Number.MAX_SAFE_INTEGER; AssemblyScript as TS without n', () => {
    expect(tsNumber(2n ** 53n - 1n, 'bits')).toBe('0x1fffffffffffff');
    expect(tsNumber(2n ** 53n, 'bits')).toBe('0x20000000000000n');
    expect(tsNumber(4096n, 'quantity', true)).toBe('0x1000n');
    expect(tsNumber(7n, 'quantity', true)).toBe('7n');
    expect(tsNumber(255n, 'quantity')).toBe('255');
  });
});

describe('names: one word splitter, four cases', () => {
  it('splits at separators and case changes, keeping digits and a version suffix in the word', () => {
    expect(words('VFIO_TYPE1v2_IOMMU')).toEqual(['VFIO', 'TYPE1v2', 'IOMMU']);
    expect(words('vfio_region_info')).toEqual(['vfio', 'region', 'info']);
    expect(words('flags-zero')).toEqual(['flags', 'zero']);
    expect(words('RegionState')).toEqual(['Region', 'State']);
    expect(words('HTTPServer2')).toEqual(['HTTP', 'Server2']);
    expect(words('ioctl2Arg')).toEqual(['ioctl2', 'Arg']);
  });

  it('derives TS/AS identifiers and C spellings', () => {
    expect(pascal('VFIO_TYPE1v2_IOMMU')).toBe('VfioType1v2Iommu');
    expect(camel('VFIO_TYPE1v2_IOMMU')).toBe('vfioType1v2Iommu');
    expect(snake('VFIO_TYPE1v2_IOMMU')).toBe('vfio_type1v2_iommu');
    expect(upper('VFIO_TYPE1v2_IOMMU')).toBe('VFIO_TYPE1V2_IOMMU');
    expect(pascal('vfio_iommu_type1_info_cap_iova_range')).toBe('VfioIommuType1InfoCapIovaRange');
    expect(pascal('VFIO_DEVICE_FEATURE')).toBe('VfioDeviceFeature');
    expect(pascal('region_info')).toBe('RegionInfo');
    expect(camel('region_info')).toBe('regionInfo');
    expect(snake('vfio-subregion')).toBe('vfio_subregion');
    expect(upper('subregion_create')).toBe('SUBREGION_CREATE');
    expect(upper('one-memtype-per-page')).toBe('ONE_MEMTYPE_PER_PAGE');
    expect(pascal('RegionState')).toBe('RegionState');
  });
});

describe('every generated file starts with the preamble', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const generator = `Generator: ${pkg.name} codegen ${pkg.version}`;

  /** The file's first lines as the preamble must read them, for its comment syntax. */
  function expectPreamble(path: string, content: string, marker: string, regenerate: string): void {
    const lines = content.split('\n');
    const body = [marker, generator, `Regenerate: ${regenerate}`];
    if (path.endsWith('.patch')) {
      // git am takes what precedes '---' as the commit message: the preamble opens the notes.
      const notes = lines.indexOf('---') + 1;
      expect(notes, path).toBeGreaterThan(0);
      expect(lines.slice(notes, notes + 3), path).toEqual(body);
    } else if (path.endsWith('.md')) {
      expect(lines.slice(0, 4), path).toEqual([`<!-- ${marker}`, `     ${generator}`, `     Regenerate: ${regenerate}`, '-->']);
    } else if (path.endsWith('.h') || path.endsWith('.c')) {
      expect(lines[0], path).toMatch(/^(\/\*|\/\/) SPDX-License-Identifier: /);
      expect(lines.slice(1, 5), path).toEqual(['/*', ...body.map((l) => ` * ${l}`)]);
    } else {
      expect(lines.slice(0, 3), path).toEqual(body.map((l) => `// ${l}`));
    }
  }

  it('in the committed files of the default spec: the version and `npm run gen`', () => {
    const spec = loadSpec();
    const files = render(spec);
    expect(files.map((f) => f.path.split('.').pop()).sort()).toEqual(['c', 'h', 'h', 'h', 'md', 'patch', 'ts', 'ts', 'wit']);
    for (const f of files) {
      expectPreamble(f.path, readFileSync(join(ROOT, f.path), 'utf8'),
        'Code generated by vfio-subregion codegen from spec/vfio-subregion.json. DO NOT EDIT.', 'npm run gen');
    }
  });

  const dir = mkdtempSync(join(tmpdir(), 'printer-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('for another spec: the CLI command with that spec and the target', () => {
    const s = flattenSpec();
    s.$schema = './schema/abi.schema.json';
    const file = join(dir, 'other.json');
    writeFileSync(file, JSON.stringify(s, null, 2));
    const spec = loadSpec(file);
    const rel = relative(ROOT, file);
    expect(spec.file).toBe(rel);
    const targets = defaultTargets(spec);
    expect(targets.length).toBeGreaterThanOrEqual(6);
    for (const t of targets) {
      for (const f of render(spec, [t])) {
        expectPreamble(f.path, f.content, `Code generated by vfio-subregion codegen from ${rel}. DO NOT EDIT.`,
          `vfio-subregion generate --spec ${rel} --out . --target ${t}`);
      }
    }
  });

  it('is the same on every run (gen:check cannot flap)', () => {
    const a = render(loadSpec());
    const b = render(loadSpec());
    expect(b).toEqual(a);
  });
});
