import { describe, expect, it } from 'vitest';
import { loadMemtypeVectors, loadMmioVectors, loadVectors } from './vectors.js';

describe('vector files', () => {
  it('load and pass the vector schema', () => {
    const v = loadVectors();
    expect(v.layout.length).toBeGreaterThan(0);
    expect(v.ioctl.length).toBeGreaterThan(0);
    expect(v.capchain.length).toBeGreaterThan(0);
    expect(v.feature.length).toBeGreaterThan(0);
    expect(v.validation.cases.length).toBeGreaterThan(0);
    expect(loadMmioVectors().length).toBeGreaterThan(0);
    expect(loadMemtypeVectors().scenarios.length).toBeGreaterThan(0);
  });
});
