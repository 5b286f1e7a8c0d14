import { describe, expect, it } from 'vitest';
import { buildCases, type ConformanceCase } from '../conformance/cases.js';
import { caseGroup as groupOf, reducedCases, selectCases } from './case-selection.js';

describe('browser case selection', () => {
  const all = buildCases(['float32', 'int32']);
  const reduced = reducedCases(all);

  it('keeps a strict subset, in the original order', () => {
    expect(reduced.length).toBeLessThan(all.length);
    const position = new Map(all.map((c, i) => [c.id, i]));
    const positions = reduced.map((c) => position.get(c.id));
    expect(positions.every((p) => p !== undefined)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a! - b!));
  });

  it('keeps every kernel, every (kernel, op, dtype) group and every tag set within a group', () => {
    const key = (c: ConformanceCase) => `${groupOf(c)}|${[...c.tags].sort().join(',')}`;
    expect(new Set(reduced.map(key))).toEqual(new Set(all.map(key)));
    expect(new Set(reduced.map((c) => c.kernel))).toEqual(new Set(all.map((c) => c.kernel)));
  });

  it('keeps the edge classes the issue names: size 1, empty, large and non-contiguous views', () => {
    for (const tag of ['edge', 'empty', 'large', 'strided', 'transposed', 'expanded', 'flipped', 'broadcast']) {
      const want = all.filter((c) => c.tags.includes(tag)).map(groupOf);
      const got = reduced.filter((c) => c.tags.includes(tag)).map(groupOf);
      expect(new Set(got), tag).toEqual(new Set(want));
    }
  });

  it('drops only repeated random draws: every dropped case has a kept twin differing in the draw number', () => {
    const kept = new Set(reduced.map((c) => c.id));
    const dropped = all.filter((c) => !kept.has(c.id));
    expect(dropped.length).toBeGreaterThan(0);
    const keptClasses = new Set(reduced.map((c) => c.id.replace(/random-\d+/g, 'random-#')));
    for (const c of dropped) {
      expect(c.id, c.id).toMatch(/random-\d+/);
      expect(keptClasses.has(c.id.replace(/random-\d+/g, 'random-#')), c.id).toBe(true);
    }
  });

  it('keeps scalar and size-1 cases apart although both are tagged only "edge"', () => {
    const ids = new Set(reduced.map((c) => c.id));
    expect(ids.has('unary/exp/float32/scalar')).toBe(true);
    expect(ids.has('unary/exp/float32/size-1')).toBe(true);
  });

  it('"full" is every case', () => {
    expect(selectCases(all, 'full').map((c) => c.id)).toEqual(all.map((c) => c.id));
  });
});
