// Token shards: prepare's ids equal an in-memory tokenization (pieces cut mid-file, shards cut
// mid-stream, documents separated), windows read from disk equal lmBatch's windows on the same
// array and seed, and a truncated or altered shard is refused naming the file. The ~1 GB run
// (peak RSS, predicted token count) is behind TSGRAD_SLOW=1: it takes minutes on 2 cores.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manualSeed } from '../../src/index.js';
import { BPETokenizer, CharTokenizer, END_OF_TEXT, lmBatch, saveTokenizer, splitTokens } from '../../src/data/index.js';
import { TokenShards, shardBatch, readShardsManifest, SHARDS_MANIFEST } from '../../src/data/shards.js';
import { prepareShards } from '../../src/data/prepare.js';
import { safeCut } from '../../src/data/corpus.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-shards-'));
const words = ['the', 'whale', 'Ahab', 'sea', 'ship', 'harpoon', 'white', 'deep', 'of', 'and', 'a', 'é', '42', 'naïve', '—', 'to'];

/** Deterministic prose with sentences, blank lines, runs of spaces and non-ASCII letters. */
function prose(n: number, seed: number): string {
  let s = '', r = seed;
  for (let i = 0; i < n; i++) {
    r = (r * 1103515245 + 12345) % 2147483648;
    s += words[r % words.length] + (r % 23 === 0 ? '.\n\n' : r % 11 === 0 ? ',\n' : r % 13 === 0 ? '   ' : ' ');
  }
  return s;
}

const allTokens = (dir: string) => {
  const shards = new TokenShards(dir);
  try {
    return shards.read(0, shards.length);
  } finally {
    shards.close();
  }
};

describe('token shards (tsgrad prepare)', function () {
  this.timeout(120_000);
  const textA = prose(6000, 1), textB = prose(4000, 2);
  let bpe: BPETokenizer;

  before(() => {
    fs.writeFileSync(path.join(work, 'a.txt'), textA);
    fs.writeFileSync(path.join(work, 'b.txt'), textB);
    bpe = BPETokenizer.train(textA.slice(0, 8000), 300);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('safeCut only cuts before one space or newline between visible text and a letter or digit', () => {
    expect(safeCut('ab  cd')).to.equal(-1);
    expect(safeCut('ab\n\ncd')).to.equal(-1);
    expect(safeCut('ab cd ef')).to.equal(5);
    expect(safeCut('x.\nThe')).to.equal(2);
  });

  it('the ids equal an in-memory tokenization of each document, separated by <|endoftext|>, across pieces and shards', () => {
    const out = path.join(work, 'bpe');
    // 4 KiB pieces and 1,000-token shards: many cuts in the text and in the stream
    const m = prepareShards({ data: [path.join(work, 'a.txt'), path.join(work, 'b.txt')], tokenizer: bpe, out, chunkBytes: 4096, shardTokens: 1000, valFraction: 0.1 });
    const eot = bpe.specialTokens[END_OF_TEXT];
    const want = [...bpe.encode(textA), eot, ...bpe.encode(textB)];
    expect(m.tokens).to.equal(want.length);
    expect(m.documents).to.equal(2);
    expect(m.separator).to.equal(eot);
    expect(m.dtype).to.equal('uint16');
    expect(m.shards.length).to.equal(Math.ceil(want.length / 1000));
    expect(Array.from(allTokens(out))).to.deep.equal(want);
    const { train, val } = splitTokens(Int32Array.from(want), 0.1); // the held-out tail of tsgrad train
    expect([m.split.trainTokens, m.split.valTokens]).to.deep.equal([train.length, val.length]);
    expect(fs.existsSync(path.join(out, 'tokenizer.json'))).to.equal(true);
  });

  it('.jsonl: one document per line, the text in the named field; a line without it is an error naming file and line', () => {
    const file = path.join(work, 'docs.jsonl');
    const docs = ['first doc here', 'second one', 'third'];
    fs.writeFileSync(file, `${docs.map((d) => JSON.stringify({ id: 1, body: d })).join('\n')}\n`);
    const char = CharTokenizer.fit(docs.join(''));
    const m = prepareShards({ data: file, tokenizer: char, out: path.join(work, 'jsonl'), textField: 'body', valFraction: 0 });
    expect(m.documents).to.equal(3);
    expect(m.separator).to.equal(null); // a char tokenizer has no separator
    expect(Array.from(allTokens(path.join(work, 'jsonl')))).to.deep.equal(char.encode(docs.join('')));
    expect(() => prepareShards({ data: file, tokenizer: char, out: path.join(work, 'jsonl2') })).to.throw(/docs\.jsonl line 1 has no string field 'text'.*--text-field/);
  });

  it('windows read from the shards equal lmBatch\'s windows of the same tokens under the same seed', () => {
    const out = path.join(work, 'bpe');
    const ids = allTokens(out);
    const { train, val } = splitTokens(ids, 0.1);
    const shards = new TokenShards(out);
    try {
      for (const [split, arr] of [['train', train], ['val', val]] as const) {
        manualSeed(7);
        const fromDisk = [0, 1, 2].map(() => shardBatch(shards, split, 64, 5));
        manualSeed(7);
        const inMemory = [0, 1, 2].map(() => lmBatch(arr, 64, 5));
        for (let i = 0; i < 3; i++) {
          expect(Array.from(fromDisk[i].x.data)).to.deep.equal(Array.from(inMemory[i].x.data));
          expect(Array.from(fromDisk[i].y.data)).to.deep.equal(Array.from(inMemory[i].y.data));
        }
      }
    } finally {
      shards.close();
    }
  });

  it('uint32 when the vocabulary exceeds 65,536 ids', () => {
    const big = { type: 'char', vocabSize: 70000, specialTokens: {}, encode: (t: string) => Array.from(t, (c) => 65536 + c.charCodeAt(0) % 100), decode: () => '', toJSON: () => CharTokenizer.fit('ab').toJSON() };
    const out = path.join(work, 'u32');
    const m = prepareShards({ data: path.join(work, 'b.txt'), tokenizer: big as never, out, valFraction: 0 });
    expect(m.dtype).to.equal('uint32');
    expect(fs.statSync(path.join(out, m.shards[0].file)).size).to.equal(4 * m.tokens);
    expect(Array.from(allTokens(out))).to.deep.equal(big.encode(textB));
  });

  it('a truncated shard, an altered shard, or a manifest that does not add up is refused, naming the file', () => {
    const src = path.join(work, 'bpe');
    const copy = (name: string) => {
      const dir = path.join(work, name);
      fs.cpSync(src, dir, { recursive: true });
      return dir;
    };
    const m = readShardsManifest(src);
    const cut = copy('cut');
    fs.truncateSync(path.join(cut, m.shards[1].file), m.shards[1].bytes - 2);
    expect(() => new TokenShards(cut)).to.throw(new RegExp(`cut/${m.shards[1].file} has ${m.shards[1].bytes - 2} bytes.*truncated`));
    const flipped = copy('flipped');
    const file = path.join(flipped, m.shards[2].file);
    const bytes = fs.readFileSync(file);
    bytes[10] ^= 1;
    fs.writeFileSync(file, bytes);
    expect(() => new TokenShards(flipped)).to.throw(new RegExp(`flipped/${m.shards[2].file} does not match its SHA-256`));
    const edited = copy('edited');
    fs.writeFileSync(path.join(edited, SHARDS_MANIFEST), JSON.stringify({ ...m, tokens: m.tokens + 1 }));
    expect(() => new TokenShards(edited)).to.throw(/edited\/shards\.json: tokens is/);
    const escaping = copy('escaping');
    fs.writeFileSync(path.join(escaping, SHARDS_MANIFEST), JSON.stringify({ ...m, shards: [{ ...m.shards[0], file: '../x.bin' }, ...m.shards.slice(1)] }));
    expect(() => new TokenShards(escaping)).to.throw(/shard file "\.\.\/x\.bin" must be a plain file name/);
  });

  it('~1 GB of text: peak RSS under 300 MB and the token count a small slice predicts (TSGRAD_SLOW=1)', function () {
    if (!process.env.TSGRAD_SLOW) this.skip();
    this.timeout(1_200_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-gb-'));
    try {
      // 16 files of 64 MiB, each the same 1 MiB block 64 times: the block's ids predict the total
      const block = prose(300_000, 3).slice(0, 1 << 20).replace(/[^\n]*$/, 'end\n');
      const blockBytes = Buffer.byteLength(block);
      const corpus = path.join(dir, 'corpus'); // its own folder: the tokenizer's merges.txt must not join the corpus
      fs.mkdirSync(corpus);
      for (let f = 0; f < 16; f++) fs.writeFileSync(path.join(corpus, `part-${f}.txt`), block.repeat(64));
      const tok = BPETokenizer.train(block.slice(0, 100_000), 400);
      const perFile = tok.encode(block.repeat(2)).length - tok.encode(block).length; // a block after a block (the joint is the same everywhere)
      const want = 16 * (tok.encode(block).length + 63 * perFile) + 15; // + one <|endoftext|> between files
      const tokDir = path.join(dir, 'tok');
      saveTokenizer(tok, tokDir);
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'prepare', '--data', corpus, '--tokenizer', tokDir, '--out', path.join(dir, 'out')], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
      expect(r.status, r.stderr).to.equal(0);
      const rss = Number(/peak RSS (\d+) MiB/.exec(r.stdout)?.[1]);
      console.log(`      ${r.stdout.trim().split('\n').slice(-4, -2).join('\n      ')}`);
      expect(16 * 64 * blockBytes).to.be.above(1e9);
      expect(rss).to.be.below(300 * 1e6 / 2 ** 20);
      const m = readShardsManifest(path.join(dir, 'out'));
      expect(m.documents).to.equal(16);
      expect(m.tokens).to.equal(want);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
