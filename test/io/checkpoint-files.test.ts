// Checkpoint files: save/load through the file system, atomic writes, and what an interrupted
// write (an error before the rename, or a real crash of the process) leaves behind.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import * as tg from '../../src/index.js';
import * as io from '../../src/io/index.js';

/** Replace fs[name] while fn runs (the io module calls fs.* at run time). */
function withStub<K extends keyof typeof fs>(name: K, stub: (typeof fs)[K], fn: () => void): void {
  const original = fs[name];
  (fs as any)[name] = stub;
  try {
    fn();
  } finally {
    (fs as any)[name] = original;
  }
}

describe('io: checkpoint files', () => {
  let dir: string;
  let file: string;
  const leftovers = () => fs.readdirSync(dir).filter((f) => f.includes('.tmp-'));
  const v1 = () => ({ 'layer.weight': tg.arange(6).reshape([2, 3]), 'layer.bias': tg.zeros([3], { dtype: 'float64' }), step: tg.tensor(1, { dtype: 'int32' }) });
  const v2 = () => ({ 'layer.weight': tg.ones([2, 3]) });

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-io-'));
    file = path.join(dir, 'model.safetensors');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('save then load gives the same tensors; loadWithMetadata adds the metadata', () => {
    io.save(file, v1(), { epoch: '3' });
    const dict = io.load(file);
    expect(Object.keys(dict).sort()).to.deep.equal(['layer.bias', 'layer.weight', 'step']);
    expect(dict['layer.weight'].toArray()).to.deep.equal([[0, 1, 2], [3, 4, 5]]);
    expect(dict['layer.bias'].dtype).to.equal('float64');
    expect(dict.step.item()).to.equal(1);
    expect(io.loadWithMetadata(file).metadata).to.deep.equal({ epoch: '3' });
    expect(fs.readFileSync(file)).to.deep.equal(Buffer.from(io.serialize(v1(), { epoch: '3' })));
    expect(leftovers()).to.deep.equal([]);
  });

  it('save replaces an existing checkpoint', () => {
    io.save(file, v1());
    io.save(file, v2());
    expect(Object.keys(io.load(file))).to.deep.equal(['layer.weight']);
    expect(leftovers()).to.deep.equal([]);
  });

  it('a missing file, a folder, or a corrupt file: the error names the path', () => {
    expect(() => io.load(path.join(dir, 'nope.safetensors'))).to.throw(`load: ${path.join(dir, 'nope.safetensors')}: no such file`);
    expect(() => io.load(dir)).to.throw(`load: ${dir}: is a directory`);
    fs.writeFileSync(file, Buffer.from([1, 2, 3]));
    expect(() => io.load(file)).to.throw(`load: ${file}: file is 3 bytes, too short`);
    expect(() => io.loadWithMetadata(file)).to.throw(`loadWithMetadata: ${file}: file is 3 bytes`);
    const big = new Uint8Array(64);
    new DataView(big.buffer).setBigUint64(0, 2n ** 60n, true);
    fs.writeFileSync(file, big);
    expect(() => io.load(file)).to.throw(`load: ${file}: header length 1152921504606846976 exceeds the 56 bytes`);
  });

  it('save into a missing folder fails cleanly, naming the path', () => {
    const target = path.join(dir, 'no', 'such', 'model.safetensors');
    expect(() => io.save(target, v1())).to.throw(`save: ${target}: could not write (no such file or folder)`);
    expect(() => io.save(file, { w: 3 as any })).to.throw(`save: ${file}: 'w' is not a Tensor`);
    expect(fs.existsSync(file)).to.equal(false);
  });

  it('an error before the rename leaves the previous checkpoint intact and no temporary file', () => {
    io.save(file, v1());
    const before = fs.readFileSync(file);
    withStub('renameSync', () => { throw Object.assign(new Error('EIO: simulated crash'), { code: 'EIO' }); }, () => {
      expect(() => io.save(file, v2())).to.throw(`save: ${file}: could not write (EIO: simulated crash); the previous file, if any, is unchanged`);
    });
    expect(fs.readFileSync(file)).to.deep.equal(before);
    expect(Object.keys(io.load(file)).sort()).to.deep.equal(['layer.bias', 'layer.weight', 'step']);
    expect(leftovers()).to.deep.equal([]);
  });

  it('a disk that fills up mid-write leaves the previous checkpoint intact', () => {
    io.save(file, v1());
    const before = fs.readFileSync(file);
    const realWrite = fs.writeSync;
    let calls = 0;
    const partialThenFull = ((fd: number, buffer: Uint8Array, offset: number, length: number) => {
      if (calls++ > 0) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      return realWrite(fd, buffer, offset, Math.min(length, 10));
    }) as typeof fs.writeSync;
    withStub('writeSync', partialThenFull, () => {
      expect(() => io.save(file, v2())).to.throw('no space left on device');
    });
    expect(fs.readFileSync(file)).to.deep.equal(before);
    expect(leftovers()).to.deep.equal([]);
  });

  it('a process killed before the rename leaves the previous checkpoint loadable (real crash, SIGKILL)', function () {
    this.timeout(30000);
    io.save(file, v1());
    const before = fs.readFileSync(file);
    const src = (p: string) => pathToFileURL(path.resolve(p)).href;
    const script = `
      import fs from 'node:fs';
      const tg = await import(${JSON.stringify(src('src/index.ts'))});
      const io = await import(${JSON.stringify(src('src/io/index.ts'))});
      fs.renameSync = () => process.kill(process.pid, 'SIGKILL');
      io.save(${JSON.stringify(file)}, { w: tg.ones([1000]) });`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.signal, child.stderr).to.equal('SIGKILL');
    expect(leftovers()).to.have.length(1); // the crash left its temporary file, fully written
    expect(fs.readFileSync(file)).to.deep.equal(before);
    expect(Object.keys(io.load(file)).sort()).to.deep.equal(['layer.bias', 'layer.weight', 'step']);
    io.save(file, v2()); // the next save is not disturbed by the leftover
    expect(Object.keys(io.load(file))).to.deep.equal(['layer.weight']);
  });

  it('writeFileAtomic writes strings and bytes, replacing the file', () => {
    const json = path.join(dir, 'optimizer.json');
    io.writeFileAtomic(json, '{"step": 1}');
    io.writeFileAtomic(json, '{"step": 2, "name": "π"}');
    expect(JSON.parse(fs.readFileSync(json, 'utf8'))).to.deep.equal({ step: 2, name: 'π' });
    io.writeFileAtomic(json, new Uint8Array([1, 2, 3]));
    expect([...fs.readFileSync(json)]).to.deep.equal([1, 2, 3]);
    expect(leftovers()).to.deep.equal([]);
    expect(() => io.writeFileAtomic('', 'x')).to.throw('writeFileAtomic: path must be a non-empty string');
  });

  it('a file truncated after its header was checked is an error, not a hang', () => {
    io.save(file, { w: tg.ones([100]) });
    const size = fs.statSync(file).size;
    const realFstat = fs.fstatSync;
    // fstat reports the original size, but the bytes are gone (another process truncated it)
    const stale = ((fd: number) => Object.assign(realFstat(fd), { size })) as typeof fs.fstatSync;
    fs.truncateSync(file, 200);
    withStub('fstatSync', stale, () => {
      expect(() => io.load(file)).to.throw(/load: .*: file ended at byte 200/);
    });
  });
});
