// Data paths recorded in a checkpoint are resolved relative to the run folder and confined to it:
// a dataset name or a file inside the run is read again; `../`, an absolute path elsewhere or a
// symbolic link out of the run is refused with an error naming the flag that overrides it.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { confinedData, dataFlag, recordData, recordedData, runFolderOf, sameData } from '../../src/train/run-data.js';

describe('recorded data paths (run-data)', () => {
  const run = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-run-data-'));
  const ckpt = path.join(run, 'checkpoint-7');
  before(() => {
    fs.mkdirSync(path.join(run, 'data'), { recursive: true });
    fs.mkdirSync(ckpt);
    fs.writeFileSync(path.join(run, 'data', 'corpus.txt'), 'hello');
    fs.symlinkSync('/etc/hostname', path.join(run, 'data', 'link.txt'));
  });
  after(() => fs.rmSync(run, { recursive: true, force: true }));

  it('records a path relative to the run folder, a dataset by name', () => {
    expect(runFolderOf(ckpt)).to.equal(run);
    expect(recordData(path.join(run, 'data', 'corpus.txt'), run)).to.equal('data/corpus.txt');
    expect(recordData(path.join(run, '..', 'x.txt'), run)).to.equal('../x.txt');
    expect(recordData('moby-dick', run)).to.equal('moby-dick');
  });

  it('reads back names and files inside the run; refuses what leaves it, naming the flag', () => {
    expect(confinedData('moby-dick', ckpt, '--data', 'eval')).to.equal('moby-dick');
    expect(confinedData('data/corpus.txt', ckpt, '--data', 'eval')).to.equal(path.join(run, 'data', 'corpus.txt'));
    for (const bad of ['../x.txt', '/etc/passwd', 'data/../../etc/passwd', 'data/link.txt', 'passwd/../..']) {
      expect(() => confinedData(bad, ckpt, '--data', 'eval'), bad).to.throw(/^eval: .*trainer_state\.json names data .*, outside the run folder .*; .*pass --data/);
    }
    expect(() => confinedData(undefined, ckpt, '--data', 'eval')).to.throw(/does not say what data it was trained on; pass --data/);
    expect(() => confinedData('a\0b', ckpt, '--data', 'eval')).to.throw(/pass --data/);
  });

  it('tells whether the data a user names is the run\'s own (then tools score its validation split)', () => {
    const own = recordedData('data/corpus.txt', ckpt)!;
    expect(sameData(path.join(run, 'data', '.', 'corpus.txt'), own)).to.equal(true);
    expect(sameData(path.join(run, 'other.txt'), own)).to.equal(false);
    expect(sameData('moby-dick', recordedData('moby-dick', ckpt)!)).to.equal(true);
    expect(recordedData('/etc/passwd', ckpt)).to.deep.equal({ data: '/etc/passwd', confined: false });
  });

  it('says which flag a later eval or --resume needs (the hints train prints)', () => {
    expect(dataFlag(path.join(run, 'data', 'corpus.txt'), run)).to.equal('');
    expect(dataFlag('moby-dick', run)).to.equal('');
    expect(dataFlag('/tmp/my corpus.txt', run)).to.equal(' --data "/tmp/my corpus.txt"');
  });
});
