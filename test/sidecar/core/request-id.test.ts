import { describe, expect, it } from '@jest/globals';
import { newRequestId } from '../../../sidecar/core/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generated request ids', () => {
  it('are version 4 UUIDs, all different, across many refills of the random batch', () => {
    const ids = Array.from({ length: 10_000 }, newRequestId);
    for (const id of ids) expect(id).toMatch(UUID_V4);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('use every hex digit in every random position', () => {
    const ids = Array.from({ length: 2_000 }, newRequestId);
    for (let position = 0; position < 36; position += 1) {
      if ([8, 13, 14, 18, 19, 23].includes(position)) continue; // dashes, version, variant
      expect(new Set(ids.map((id) => id[position])).size).toBe(16);
    }
  });
});
