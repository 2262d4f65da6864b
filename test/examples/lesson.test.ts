// The lessons' printing helpers (examples/lib/lesson.ts): a matrix prints with its shape and rows.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { compare, vec } from '../../examples/lib/lesson.js';

describe('lesson helpers', () => {
  it('vec prints a matrix with its shape, row by row; a vector stays a flat list', () => {
    expect(vec(tg.tensor([[1, 2, 3], [4, 5, 6]]), 1)).to.equal('2×3 [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]');
    expect(vec(tg.tensor([[[1], [2]]]), 0)).to.equal('1×2×1 [[[1], [2]]]');
    expect(vec(tg.tensor([1, 2]), 1)).to.equal('[1.0, 2.0]');
    expect(vec([0.5, 1], 2)).to.equal('[0.50, 1.00]');
  });
});

describe('lesson helpers: compare', () => {
  it('prints a matrix gradient with its shape on both lines, the hand values in that shape', () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      compare('∂L/∂W', [1, 2, 3, 4, 5, 6], tg.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' }), 1);
    } finally {
      console.log = log;
    }
    expect(lines).to.deep.equal(['  ∂L/∂W', '    by hand:  2×3 [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]', '    autograd: 2×3 [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]', '    max |hand − autograd| = 0.0e+0']);
  });
});
