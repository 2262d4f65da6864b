// tg.tensor of arrays nested 10^4 deep: an error that says so, not "Maximum call stack size exceeded".
import { expect } from 'chai';
import * as tg from '../../src/index.js';

describe('tensor: nesting depth', () => {
  it('data nested 10^4 deep is refused with the depth named; 64 levels still make a tensor', () => {
    const nest = (depth: number) => {
      let data: unknown = [1];
      for (let i = 1; i < depth; i++) data = [data];
      return data as number[];
    };
    expect(() => tg.tensor(nest(10_000))).to.throw('tensor: data is nested more than 64 arrays deep; a tensor has at most 64 dims');
    expect(() => tg.tensor(nest(65))).to.throw('nested more than 64 arrays deep');
    expect(tg.tensor(nest(64)).shape).to.deep.equal(Array(64).fill(1));
  });
});
