// Valid but hostile safetensors headers: the work of reading a header stays proportional to the
// data the file holds. 1.6 million zero-size tensors in a 95 MB header (47 s and 1.3 GB before
// the bound) are refused from the length field alone; too many tensors, overall or for what the
// caller expects, are refused with the count named.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deserialize, HEADER_SLACK_BYTES, MAX_TENSORS } from '../../src/io/safetensors.js';
import * as tg from '../../src/index.js';
import * as io from '../../src/io/index.js';
import { runBounded } from '../helpers.js';

/** A safetensors file of `count` zero-size F32 tensors (a valid file: no data, every entry consistent), written in chunks. */
function writeEmptyTensors(file: string, count: number, dataBytes = 0): void {
  const entry = (i: number) => `"t${String(i).padStart(7, '0')}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`;
  const big = dataBytes > 0 ? `,"big":{"dtype":"F32","shape":[${dataBytes / 4}],"data_offsets":[0,${dataBytes}]}` : '';
  const length = 2 + count * entry(0).length + (count - 1) + big.length; // braces, entries, commas
  const fd = fs.openSync(file, 'w');
  const first8 = Buffer.alloc(8);
  first8.writeBigUInt64LE(BigInt(length));
  fs.writeSync(fd, first8);
  fs.writeSync(fd, '{');
  for (let at = 0; at < count; at += 10_000) {
    fs.writeSync(fd, Array.from({ length: Math.min(10_000, count - at) }, (_, k) => entry(at + k)).join(',') + (at + 10_000 < count ? ',' : ''));
  }
  fs.writeSync(fd, `${big}}`);
  if (dataBytes > 0) fs.writeSync(fd, Buffer.alloc(dataBytes));
  fs.closeSync(fd);
}

describe('io: hostile safetensors headers are bounded by the data', function () {
  this.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-st-limits-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('1.6 million zero-size tensors in a 95 MB header: refused from the length field, in a child bounded to 20 s and 1 GB', async () => {
    const file = path.join(dir, 'empty-tensors.safetensors');
    writeEmptyTensors(file, 1_600_000);
    const size = fs.statSync(file).size;
    const script = `import * as io from './src/io/index.js'; try { io.load(${JSON.stringify(file)}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
    const run = await runBounded(['--input-type=module', '-e', script]);
    console.log(`      ${(size / 1e6).toFixed(0)} MB header: ${run.ms} ms (with node's start), peak RSS ${run.peakMb} MB${run.killed ? `, killed: ${run.killed}` : ''}`);
    expect(run.killed).to.equal(null);
    expect(run.stdout.trim()).to.equal(`load: ${file}: header length ${size - 8} is more than ${HEADER_SLACK_BYTES} bytes larger than the 0-byte data section (a header of empty tensors or padding, refused before it is parsed)`);
  });

  it('a shape or data_offsets nested 10^4 deep: the error shows a preview, not a stack overflow', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    for (const [field, message] of [['shape', 'has shape [[[[…]]]]: dims must be non-negative integers'], ['data_offsets', 'has data_offsets [[[[…]]]]: expected [begin, end]']]) {
      const entry = field === 'shape' ? `{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}` : `{"dtype":"F32","shape":[0],"data_offsets":${deep}}`;
      const header = Buffer.from(`{"w":${entry}}`);
      const bytes = Buffer.concat([Buffer.alloc(8), header]);
      bytes.writeBigUInt64LE(BigInt(header.length));
      expect(() => deserialize(bytes, 'deep')).to.throw(`deserialize: deep: tensor 'w' ${message}`);
    }
  });

  it(`more than ${MAX_TENSORS} tensors, or more than the caller expects, are refused with the count named`, () => {
    const file = path.join(dir, 'many.safetensors');
    writeEmptyTensors(file, MAX_TENSORS + 1, 4 << 20); // a 4 MB tensor, so that the header is not larger than the data
    expect(() => io.load(file)).to.throw(`load: ${file}: header lists ${MAX_TENSORS + 2} tensors, more than the ${MAX_TENSORS} expected`);
    const few = path.join(dir, 'few.safetensors');
    io.save(few, Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`w${i}`, tg.full([2], i)])));
    expect(() => io.loadHeader(few, { maxTensors: 10 })).to.throw(`loadHeader: ${few}: header lists 11 tensors, more than the 10 expected`);
    expect(io.loadHeader(few, { maxTensors: 11 }).tensors).to.have.length(11);
    expect(() => deserialize(fs.readFileSync(few), 'few', { maxTensors: 3 })).to.throw('deserialize: few: header lists 11 tensors, more than the 3 expected');
  });
});
