import { describe, expect, it } from 'vitest';
import * as eql from '@sequor/eql';

describe('workspace resolution', () => {
  it('imports a workspace package from source', () => {
    expect(eql).toBeTypeOf("object");
  });
});
